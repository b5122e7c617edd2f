"""Where the `komodo-api` 2.3.3 package's generated types are wrong about Komodo Core 2.3.2: the reviewed list.

Each entry names the generated line, what Core really does, and the Rust source (Komodo v2.3.2, /work/komodo-src)
that proves it: the partial configs of write requests (`partial`) and the text replacements of EXCEPTIONS.
The recorded answers of a real Core (`fixtures/recorded-core/`) all validate under the strict
rules plus these entries (`test_contract.py::test_every_recorded_core_answer_validates`): that is what shows the
list is right and complete. Add an entry only with its source line; never to make the simulator pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model


@dataclass(frozen=True)
class TypeException:
    """komodo-api generates `generated` (exact text of `komodo_api/types.py`); Core's source says `core`."""

    generated: str
    core: str
    source: str  # file:line in Komodo v2.3.2 that proves it
    why: str

    def apply(self, types_source: str) -> str:
        assert types_source.count(self.generated) == 1, f"komodo-api no longer generates {self.generated!r}"
        return types_source.replace(self.generated, self.core)


class Forbidding(BaseModel):
    """The base every rebuilt komodo-api type derives from: unknown keys are errors (Core's serde would ignore an
    unknown request key, but the server must not send one Core does not read, and the simulator must not invent
    a field Core never sends)."""

    model_config = ConfigDict(extra="forbid")


# The partial configs. komodo-api aliases each `_Partial<X>Config` to the whole config (`_PartialDeploymentConfig =
# DeploymentConfig`), so a Create/Update request carrying some fields only would fail on every required one.
def partial(config: Any) -> Any:
    """Core's `_Partial<X>Config`: every top-level field optional and left out when unset (the `Partial` derive,
    e.g. `client/core/rs/src/entities/deployment.rs:122-130`). komodo-api aliases it to the whole config instead.
    (A union such as BuilderConfig stays as generated: komodo-api has its own PartialBuilderConfig.)"""
    if not (isinstance(config, type) and issubclass(config, BaseModel)):
        return config
    fields: dict[str, Any] = {name: (Optional[info.annotation], Field(default=None, alias=info.alias))
                              for name, info in config.model_fields.items()}
    return create_model(f"Partial{config.__name__}", __base__=Forbidding, **fields)


class CoreErrorBody(BaseModel):
    """Every failure's body: mogh_error's `Serror` (`lib/formatting/src/lib.rs:1` uses it; the crate serialises
    `{"error": <message>, "trace": [<causes>]}`, as every non-200 answer in the recorded files shows)."""

    model_config = ConfigDict(extra="forbid")

    error: str
    trace: list[str]


EXCEPTIONS: list[TypeException] = [
    TypeException(
        generated="class PermissionLevelAndSpecifics(BaseModel):\n"
                  "    level: PermissionLevel\n    specific: Set[SpecificPermission]\n",
        core="class PermissionLevelAndSpecificsObject(BaseModel):\n"
             "    level: PermissionLevel\n    specific: Set[SpecificPermission]\n\n"
             "PermissionLevelAndSpecifics = Union[PermissionLevel, PermissionLevelAndSpecificsObject]\n",
        source="client/core/rs/src/deserializers/permission.rs:29-44",
        why="Core serialises a permission without specifics as the bare level string (`\"Read\"`), and only "
            "otherwise as {level, specific}: every resource's base_permission and GetPermission's answer"),
]
