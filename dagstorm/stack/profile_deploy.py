"""Deploy a pipeline profile onto the running embedded stack, and undeploy it; no restart.

The embedded Airflow reads one DAGs folder that dagstorm owns, under the state
directory (``<state>/airflow/dags``). Deploying a profile links each top-level
entry of its ``source.folders`` into it (so a DAG's own package imports work as
in its folder), records them in ``.deployed.json``, creates the profile's
database and pools, runs its setup and schema, then waits until Airflow has parsed every
DAG the profile names by id (the DAG processor rescans the folder every 20 s).
Undeploying removes the links; Airflow then marks those DAGs stale.

An external source deploys no files: it only waits for the DAGs to be listed.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from psycopg import sql

from dagstorm.core.atomic import atomic_write
from dagstorm.core.errors import UsageError
from dagstorm.profiles.loader import LoadedProfile, default_profile, find_profile
from dagstorm.stack.deploy import (
    DAG_WAIT_SECONDS,
    DeployError,
    PipelineSettings,
    apply_pools,
    apply_schema,
    dag_files_outside,
    deploy_to,
    postgres_connection,
    upsert_connection,
    wait_for_dags,
)
from dagstorm.stack.embedded.context import StackContext
from dagstorm.stack.endpoints import Stack, resolve_stack
from dagstorm.stack.profile_env import profile_dsn

__all__ = [
    "MANIFEST",
    "deploy_profile",
    "deployed",
    "managed_dags_folder",
    "stack_profiles",
    "undeploy_profile",
]

#: The record of what each profile linked into the DAGs folder.
MANIFEST = ".deployed.json"
_SKIP = ("__pycache__", ".airflowignore")


def managed_dags_folder(ctx: StackContext) -> Path:
    """The DAGs folder dagstorm owns (the embedded Airflow's, unless ``airflow.dags_folder``)."""
    return ctx.layout.root / "airflow" / "dags"


def _read_manifest(folder: Path) -> dict[str, dict[str, list[str]]]:
    try:
        data = json.loads((folder / MANIFEST).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {
        str(name): {key: [str(v) for v in value.get(key, [])] for key in ("entries", "ignore")}
        for name, value in data.items()
        if isinstance(value, dict)
    }


def deployed(folder: Path) -> dict[str, list[str]]:
    """Profile name → the entries it linked into ``folder``."""
    return {name: record["entries"] for name, record in _read_manifest(folder).items()}


def _write_manifest(folder: Path, manifest: dict[str, dict[str, list[str]]]) -> None:
    """The manifest, and the folder's ``.airflowignore``: every profile's lines."""
    atomic_write(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    lines = [line for record in manifest.values() for line in record["ignore"]]
    atomic_write(folder / ".airflowignore", "".join(f"{line}\n" for line in lines))


def undeploy_profile(ctx: StackContext, name: str) -> list[str]:
    """Remove the links profile ``name`` made; returns them (empty: it was not deployed)."""
    folder = managed_dags_folder(ctx)
    manifest = _read_manifest(folder)
    entries = manifest.pop(name, {}).get("entries", [])
    for entry in entries:
        link = folder / entry
        if link.is_symlink():
            link.unlink()
    if entries:
        _write_manifest(folder, manifest)
    return entries


def _link(ctx: StackContext, loaded: LoadedProfile) -> list[str]:
    """Link the profile's folders into the managed DAGs folder; the entry names."""
    if ctx.config.airflow.dags_folder is not None:
        raise UsageError(
            f"the stack's DAGs folder is your own ({ctx.config.airflow.dags_folder})",
            where="airflow.dags_folder in the stack config",
            fix="remove the key (profiles deploy into the folder dagstorm owns), "
            "or copy the DAGs there yourself and use `source: {kind: external}`",
        )
    folder = managed_dags_folder(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    profile = loaded.profile
    if profile.source.mode == "replace":
        for other in list(deployed(folder)):
            if other != profile.name:
                undeploy_profile(ctx, other)
    manifest = _read_manifest(folder)
    owners = {e: name for name, record in manifest.items() for e in record["entries"]}
    names: list[str] = []
    ignore: list[str] = []
    for relative in profile.source.folders:
        source = loaded.resolve(relative)
        if (source / ".airflowignore").is_file():
            ignore += [
                line.strip()
                for line in (source / ".airflowignore").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            ]
        for entry in sorted(source.iterdir()):
            if entry.name in _SKIP or entry.name.startswith("."):
                continue
            link = folder / entry.name
            owner = owners.get(entry.name)
            if owner not in (None, profile.name) or (link.exists() and not link.is_symlink()):
                raise DeployError(
                    f"`{entry.name}` is already in the DAGs folder"
                    + (f" (profile {owner})" if owner else ""),
                    where=str(entry),
                    fix=f"undeploy it first (`dagstorm stack undeploy {owner}`) or rename it",
                )
            if link.is_symlink():
                link.unlink()
            link.symlink_to(entry.resolve())
            names.append(entry.name)
    manifest[profile.name] = {"entries": names, "ignore": ignore}
    _write_manifest(folder, manifest)
    return names


def ensure_database(ctx: StackContext, name: str) -> None:
    """Create database ``name`` (owned by the stack's serving user) if it does not exist."""
    creds = ctx.credentials
    try:
        with psycopg.connect(
            host="127.0.0.1",
            port=ctx.config.ports.postgres,
            user=creds.postgres_superuser,
            password=creds.postgres_superuser_password,
            dbname="postgres",
            connect_timeout=10,
            autocommit=True,
        ) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(creds.serving_db_user)
                )
            )
    except psycopg.Error as exc:
        raise DeployError(
            f"database {name} not created ({exc.__class__.__name__})",
            where="postgres",
            fix="check `dagstorm stack check`",
        ) from None


def deploy_profile(
    ctx: StackContext, loaded: LoadedProfile, *, wait: bool = True, check_folder: bool = False
) -> list[str]:
    """Deploy ``loaded`` onto the embedded stack of ``ctx`` (idempotent); the linked entries.

    With ``check_folder``, refuse first when the running Airflow parses its DAGs
    from another folder: the linked files would never be seen.
    """
    profile = loaded.profile
    stack = resolve_stack(ctx.config)
    embedded = profile.source.kind == "embedded"
    if embedded and check_folder:
        check_dags_folder(stack, managed_dags_folder(ctx))
    names = _link(ctx, loaded) if embedded else []
    database = profile.source.database
    if database is not None:
        ensure_database(ctx, database.name)
        if database.connection_id is not None:
            dsn = profile_dsn(stack, profile, database.dsn_env)
            assert dsn is not None  # the embedded stack knows its databases' DSNs
            upsert_connection(stack, postgres_connection(database.connection_id, dsn))
    if profile.source.setup == "reference":
        deploy_to(stack, PipelineSettings.for_embedded(ctx))
    if profile.source.pools:
        apply_pools(stack, profile.source.pools, f"pool of the pipeline profile {profile.name}")
    _schema(stack, loaded)
    if wait:
        wait_for_dags(stack, tuple(d.id for d in profile.dags if d.id), DAG_WAIT_SECONDS)
    return names


def check_dags_folder(stack: Stack, folder: Path) -> None:
    """Refuse when the running Airflow parses its DAGs from another folder (a restart is due)."""
    elsewhere = dag_files_outside(stack, folder)
    if elsewhere is not None:
        raise DeployError(
            f"the running Airflow reads its DAGs from {elsewhere.parent}, "
            f"not from {folder} where profiles are deployed",
            where="airflow-dag-processor",
            fix="restart the stack once (`dagstorm stack down && dagstorm stack up`): "
            "it was started before pipeline profiles",
        )


def _schema(stack: Stack, loaded: LoadedProfile) -> None:
    source = loaded.profile.source
    if source.schema_file is None or source.schema_dsn_env is None:
        return
    dsn = profile_dsn(stack, loaded.profile, source.schema_dsn_env)
    if dsn is None:
        raise DeployError(
            f"environment variable {source.schema_dsn_env} is not set",
            where=str(loaded.path),
            fix=f"export {source.schema_dsn_env}=postgresql://…",
        )
    apply_schema(dsn, loaded.resolve(source.schema_file))


def stack_profiles(ctx: StackContext) -> list[LoadedProfile]:
    """The profiles `stack up` deploys: ``airflow.pipelines``, else the default profile.

    With ``airflow.dags_folder`` (a DAGs folder of the user's own) none: nothing is
    linked into a folder dagstorm does not own.
    """
    if ctx.config.airflow.dags_folder is not None:
        return []
    names = ctx.config.airflow.pipelines
    if names is None:
        default = default_profile()
        return [] if default is None else [default]
    return [find_profile(name) for name in names]
