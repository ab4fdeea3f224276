"""Registries of kinds: what a scenario's ``kind:`` names, built in or from a plugin.

Each registry maps a kind (``network``, ``ad_logs``, …) to a :class:`Kind`: the
pydantic model of its scenario entry and the function that builds it. dagstorm
registers its own kinds; other packages add theirs through entry points in the
registry's group (``dagstorm.faults``, ``dagstorm.workloads``, ``dagstorm.probes``,
``dagstorm.slos``)::

    # pyproject.toml of a user's package
    [project.entry-points."dagstorm.faults"]
    maintenance_flag = "my_faults:MAINTENANCE_FLAG"

where ``my_faults.MAINTENANCE_FLAG`` is a :class:`Kind` (docs/plugins.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError
from pydantic_core import core_schema as cs

from dagstorm.core.errors import PluginError

BuiltT = TypeVar("BuiltT")

#: Who provides the built-in kinds.
BUILT_IN = "dagstorm"


@dataclass(frozen=True)
class Kind(Generic[BuiltT]):
    """One kind: its scenario entry's model and how to build the thing it names.

    ``spec`` must have a ``kind`` field whose type is ``Literal["<kind>"]`` (that is
    how a scenario entry picks its model; SLOs are tagged by ``type`` instead).
    ``build``'s arguments depend on the registry (a fault gets its spec, id and
    fault context; a workload its spec and the run context; an SLO's ``build`` is
    its judge: the spec and the run's evidence, :mod:`dagstorm.plugin.slo`).
    """

    spec: type[BaseModel]
    build: Callable[..., BuiltT]
    #: Who provides it: ``dagstorm`` or the distribution and entry point of a plugin.
    source: str = BUILT_IN

    @property
    def name(self) -> str:
        """The kind's name, from its spec's ``kind`` (an SLO's: ``type``) ``Literal[...]``."""
        tag = "kind" if "kind" in self.spec.model_fields else "type"
        return kind_name(self.spec, tag)


def kind_name(spec: type[BaseModel], tag: str = "kind") -> str:
    """The value of ``spec``'s ``<tag>: Literal["…"]`` field (``kind`` by default)."""
    field = spec.model_fields.get(tag)
    values = get_args(field.annotation) if field is not None else ()
    if len(values) != 1 or not isinstance(values[0], str):
        raise PluginError(
            f'{spec.__qualname__} has no `{tag}: Literal["name"]` field',
            where=f"{spec.__module__}.{spec.__qualname__}",
            fix=f'declare `{tag}: Literal["my_kind"] = "my_kind"` on the spec model',
        )
    return values[0]


class Registry(Generic[BuiltT]):
    """The kinds of one family (faults, workloads, probes or SLOs), built-in and plugged in."""

    def __init__(self, group: str, what: str, *, tag: str = "kind") -> None:
        #: The entry-point group plugins register in (``dagstorm.faults``).
        self.group = group
        #: What one kind is called in messages (``fault``).
        self.what = what
        #: The spec field that names the kind (``kind``; SLOs: ``type``).
        self.tag = tag
        self._kinds: dict[str, Kind[BuiltT]] = {}
        self._loaded = False
        self._lock = threading.Lock()

    def register(self, kind: Kind[BuiltT]) -> Kind[BuiltT]:
        """Add ``kind``; a name already taken by another provider is refused."""
        name = kind_name(kind.spec, self.tag)
        with self._lock:
            held = self._kinds.get(name)
            if held is not None and held != kind:
                raise PluginError(
                    f"{self.what} kind `{name}` of {kind.source} is already provided by"
                    f" {held.source}",
                    where=self.group,
                    fix="rename one of them (kinds are unique across plugins)",
                )
            self._kinds[name] = kind
        return kind

    def unregister(self, name: str) -> None:
        """Remove a kind (tests, and plugins that replace themselves)."""
        with self._lock:
            self._kinds.pop(name, None)

    def load_plugins(self) -> None:
        """Register every entry point of :attr:`group` (once; errors name the plugin)."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
        for point in entry_points(group=self.group):
            self.register(self._load(point))

    def reload_plugins(self) -> None:
        """Look at the entry points again (after installing a plugin in this process)."""
        with self._lock:
            self._loaded = False
        self.load_plugins()

    def _load(self, point: EntryPoint) -> Kind[BuiltT]:
        source = f"{point.dist.name if point.dist else 'an unknown package'} ({point.value})"
        try:
            loaded: Any = point.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin is named, not a traceback
            raise PluginError(
                f"the {self.what} plugin `{point.name}` does not load: {type(exc).__name__}: {exc}",
                where=source,
                fix=f"fix or uninstall the package that declares it in `{self.group}`",
            ) from None
        if not isinstance(loaded, Kind):
            raise PluginError(
                f"the {self.what} plugin `{point.name}` is a {type(loaded).__name__}, not a Kind",
                where=source,
                fix="point the entry point at a dagstorm.plugin.registry.Kind(spec=…, build=…)",
            )
        kind = Kind(spec=loaded.spec, build=loaded.build, source=source)
        name = kind_name(kind.spec, self.tag)
        if name != point.name:
            raise PluginError(
                f"the entry point `{point.name}` provides kind `{name}`",
                where=source,
                fix="name the entry point after the kind it provides",
            )
        return kind

    def get(self, name: str) -> Kind[BuiltT]:
        """The kind called ``name`` (plugins loaded first); PluginError lists the known ones."""
        self.load_plugins()
        kind = self._kinds.get(name)
        if kind is None:
            raise PluginError(
                f"unknown {self.what} kind `{name}`",
                where=self.group,
                fix=f"use one of: {', '.join(self.names())} (or install the plugin providing it)",
            )
        return kind

    def names(self) -> list[str]:
        """Every kind's name: the built-in ones in their order, then the plugins'."""
        self.load_plugins()
        return list(self._kinds)

    def __iter__(self) -> Iterator[Kind[BuiltT]]:
        self.load_plugins()
        return iter(list(self._kinds.values()))

    def specs(self) -> tuple[type[BaseModel], ...]:
        """Every kind's spec model (for the scenario model's ``kind``-tagged union)."""
        return tuple(kind.spec for kind in self)

    def validate(self, value: Any) -> Any:
        """A scenario entry as its kind's spec model (pydantic's errors keep their paths).

        An entry without ``kind`` or with an unknown one fails like pydantic's own
        tagged unions do (``union_tag_not_found`` / ``union_tag_invalid``), so the
        loader words them the same way: "unknown fault kind `x`; known: …".
        """
        if not isinstance(value, dict):
            return value  # already a model, or a wrong type the field's own check refuses
        name = value.get(self.tag)
        if name is None:
            raise PydanticCustomError(
                "union_tag_not_found",
                "Unable to extract tag using discriminator {discriminator}",
                {"discriminator": f"'{self.tag}'"},
            )
        self.load_plugins()
        kind = self._kinds.get(name) if isinstance(name, str) else None
        if kind is None:
            expected = ", ".join(f"'{n}'" for n in self.names())
            raise PydanticCustomError(
                "union_tag_invalid",
                "Input tag {tag} found using {discriminator} does not match any of the"
                " expected tags: {expected_tags}",
                {"discriminator": f"'{self.tag}'", "tag": str(name), "expected_tags": expected},
            )
        return kind.spec.model_validate(value)


class OneOfKinds:
    """Marks a scenario field that holds one entry of any kind of a registry.

    Use it with the registry's validator::

        FaultSpec = Annotated[
            FaultSpecBase, BeforeValidator(FAULT_KINDS.validate), OneOfKinds(FAULT_KINDS)
        ]

    Validation picks the model by ``kind`` when the scenario is loaded, so a kind
    registered by a plugin is accepted like a built-in one; the JSON Schema lists
    every kind known when it is generated.
    """

    def __init__(self, registry: Registry[Any]) -> None:
        self.registry = registry

    def __get_pydantic_json_schema__(
        self, core_schema: cs.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"oneOf": [handler(spec.__pydantic_core_schema__) for spec in self.registry.specs()]}
