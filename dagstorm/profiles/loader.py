"""Find and load pipeline profiles; every problem at once, each ``file:line:column``.

A profile is ``<pipelines>/<name>/pipeline.yaml``. The pipelines folders searched,
in order: those in ``DAGSTORM_PIPELINES`` (``:``-separated), then the project's
``pipelines/`` (the checkout's, or the packaged copy). A scenario names a profile
by name, or by the path of its ``pipeline.yaml`` (or its folder), relative to the
scenario; a scenario that names none gets the profile marked ``default: true``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dagstorm.core.errors import ScenarioError
from dagstorm.core.problems import Problem, sort_problems
from dagstorm.core.validation_words import problems_from_validation
from dagstorm.core.yamlsource import KeyPath, load_yaml
from dagstorm.profiles.model import PipelineProfile

__all__ = [
    "PROFILE_FILE",
    "LoadedProfile",
    "ProfileInvalid",
    "default_database",
    "default_profile",
    "find_profile",
    "is_profile_file",
    "load_profile",
    "pipelines_roots",
]

PROFILE_FILE = "pipeline.yaml"
_FIX = "see docs/own-pipeline.md and `dagstorm schema --pipeline`"


class ProfileInvalid(ScenarioError):
    """A pipeline profile with one or more problems (all listed, one line each)."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(
            first.what if len(problems) == 1 else f"{len(problems)} problems",
            where=first.where,
            fix=first.fix if len(problems) == 1 else "see each line",
        )
        self.problems = problems

    def render(self) -> str:
        """One line per problem."""
        return "\n".join(str(p) for p in self.problems)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class LoadedProfile:
    """A valid profile and the folder its relative paths start from."""

    profile: PipelineProfile
    path: Path

    @property
    def folder(self) -> Path:
        """The profile's folder (``folders`` and relative paths start here)."""
        return self.path.parent

    def resolve(self, relative: Path) -> Path:
        """``relative`` from the profile's folder (absolute paths stay)."""
        return relative if relative.is_absolute() else (self.folder / relative).resolve()

    def document(self) -> dict[str, Any]:
        """The profile as plain data, with its source file (what a run directory keeps)."""
        data = self.profile.model_dump(mode="json", exclude_defaults=False)
        return {**data, "source_file": str(self.path)}


def is_profile_file(path: Path) -> bool:
    """True for a file named ``pipeline.yaml`` (what ``validate`` checks as a profile)."""
    return path.name in (PROFILE_FILE, "pipeline.yml")


def load_profile(path: Path) -> LoadedProfile:
    """Load and validate ``path``; :class:`ProfileInvalid` lists every problem."""
    doc = load_yaml(path, error=ScenarioError)
    if doc.empty or not isinstance(doc.data, dict):
        raise ProfileInvalid(
            [Problem(f"{path}:1:1", "the profile is empty or not a mapping", _FIX)]
        )
    problems = list(doc.duplicates)

    def where_of(key_path: KeyPath, at_key: bool) -> str:
        return doc.where(key_path, key=at_key)

    profile: PipelineProfile | None = None
    try:
        profile = PipelineProfile.model_validate(doc.data)
    except ValidationError as exc:
        problems += problems_from_validation(
            exc, doc.data, where_of, model=PipelineProfile, default_fix=_FIX
        )
    if profile is not None and profile.name != path.parent.name:
        problems.append(
            Problem(
                doc.where(("name",)),
                f"the profile is named `{profile.name}` but its folder `{path.parent.name}`",
                f"rename one: a profile lives in pipelines/{profile.name}/{PROFILE_FILE}",
            )
        )
    if profile is not None:
        problems += _missing_paths(profile, path, where_of)
    if problems or profile is None:
        raise ProfileInvalid(sort_problems(problems))
    return LoadedProfile(profile, path.resolve())


def _missing_paths(profile: PipelineProfile, path: Path, where_of: Any) -> list[Problem]:
    """A folder or schema file the profile names that does not exist."""
    problems = []
    source = profile.source
    named: list[tuple[KeyPath, Path]] = [
        (("source", "folders", i), folder) for i, folder in enumerate(source.folders)
    ]
    if source.schema_file is not None:
        named.append((("source", "schema_file"), source.schema_file))
    for key_path, relative in named:
        full = relative if relative.is_absolute() else path.parent / relative
        if not full.exists():
            problems.append(
                Problem(
                    where_of(key_path, False),
                    f"`{relative}` does not exist (relative to {path.parent})",
                    "give a path relative to the profile's folder, or an absolute one",
                )
            )
    return problems


def _project_pipelines() -> Path:
    """The project's ``pipelines/`` (the checkout's, or the packaged copy)."""
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "pipelines"  # dagstorm/profiles/loader.py
    if checkout.is_dir():
        return checkout
    return here.parents[1] / "_data" / "pipelines"


def pipelines_roots(env: Mapping[str, str] | None = None) -> list[Path]:
    """The pipelines folders searched, first wins (see the module docstring)."""
    env = os.environ if env is None else env
    extra = [Path(p) for p in env.get("DAGSTORM_PIPELINES", "").split(os.pathsep) if p]
    return [*extra, _project_pipelines()]


def _candidates(roots: list[Path]) -> list[Path]:
    return [
        path for root in roots if root.is_dir() for path in sorted(root.glob(f"*/{PROFILE_FILE}"))
    ]


def find_profile(
    name: str, *, base: Path | None = None, env: Mapping[str, str] | None = None
) -> LoadedProfile:
    """The profile ``name``: a name in the pipelines folders, or a path (from ``base``)."""
    as_path = Path(name)
    if "/" in name or name.endswith((".yaml", ".yml")):
        full = as_path if as_path.is_absolute() else (base or Path.cwd()) / as_path
        return load_profile(full / PROFILE_FILE if full.is_dir() else full)
    roots = pipelines_roots(env)
    for root in roots:
        path = root / name / PROFILE_FILE
        if path.is_file():
            return load_profile(path)
    known = sorted({p.parent.name for p in _candidates(roots)})
    raise ScenarioError(
        f"no pipeline profile `{name}`",
        where=", ".join(str(r) for r in roots),
        fix=f"name one of: {', '.join(known) or '(none)'}; or give the path of a {PROFILE_FILE}",
    )


def default_profile(env: Mapping[str, str] | None = None) -> LoadedProfile | None:
    """The first profile marked ``default: true`` in the pipelines folders, if any."""
    for path in _candidates(pipelines_roots(env)):
        try:
            loaded = load_profile(path)
        except ScenarioError:
            continue
        if loaded.profile.default:
            return loaded
    return None


#: The stack's serving database when no default profile names one.
FALLBACK_DATABASE = "serving"


def default_database(env: Mapping[str, str] | None = None) -> str:
    """The database the stack's serving user owns: the default profile's, or ``serving``."""
    loaded = default_profile(env)
    if loaded is None or loaded.profile.source.database is None:
        return FALLBACK_DATABASE
    return loaded.profile.source.database.name
