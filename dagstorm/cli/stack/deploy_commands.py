"""`dagstorm stack deploy` and `undeploy`: pipeline profiles onto the running stack, no restart."""

from __future__ import annotations

import time

import click

from dagstorm.cli.common import Settings, handle_errors, out
from dagstorm.cli.stack.stack_commands import stack


@stack.command("deploy")
@click.argument("profiles", nargs=-1)
@click.option("--no-wait", is_flag=True, help="Do not wait for Airflow to parse the DAGs.")
@click.pass_obj
@handle_errors
def stack_deploy(settings: Settings, profiles: tuple[str, ...], no_wait: bool) -> None:
    """Deploy pipeline profiles onto the running embedded stack (no restart).

    Each PROFILE is a name in the pipelines folders (pipelines/, DAGSTORM_PIPELINES)
    or the path of a pipeline.yaml. Its DAG folders are linked into the DAGs
    folder dagstorm owns (<state>/airflow/dags), its database and schema are
    created, then it waits until Airflow has parsed every DAG the profile names.
    Without PROFILE: the stack's profiles (`airflow.pipelines`, else the default).
    Idempotent. Guide: docs/own-pipeline.md.

    \b
    Example:
      dagstorm stack deploy orders_etl
      dagstorm stack deploy ./my_pipeline/pipeline.yaml
    """
    from dagstorm.profiles.loader import find_profile
    from dagstorm.stack.profile_deploy import deploy_profile, stack_profiles

    ctx = settings.context()
    chosen = [find_profile(name) for name in profiles] if profiles else stack_profiles(ctx)
    for loaded in chosen:
        started = time.monotonic()
        linked = deploy_profile(ctx, loaded, wait=not no_wait, check_folder=True)
        out.print(
            f"deployed {loaded.profile.name}: {len(linked)} entries linked, "
            f"{'parsed' if not no_wait else 'not waited for'} "
            f"in {time.monotonic() - started:.1f} s",
            markup=False,
        )


@stack.command("undeploy")
@click.argument("profiles", nargs=-1, required=True)
@click.pass_obj
@handle_errors
def stack_undeploy(settings: Settings, profiles: tuple[str, ...]) -> None:
    """Remove pipeline profiles' DAG files from the embedded stack (no restart).

    Airflow marks their DAGs stale at its next parse (within 20 s); their runs,
    database and Airflow connections stay.

    \b
    Example:
      dagstorm stack undeploy orders_etl
    """
    from dagstorm.stack.profile_deploy import undeploy_profile

    ctx = settings.context()
    for name in profiles:
        removed = undeploy_profile(ctx, name)
        what = f"{len(removed)} entries removed" if removed else "was not deployed"
        out.print(f"undeployed {name}: {what}", markup=False)
