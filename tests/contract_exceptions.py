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
    TypeException(
        generated='    labels: Optional[Dict[str, str]] = Field(default=None)\n    """\n    The labels attached to container.\n',
        core='    """\n    The labels attached to container.\n',
        source="client/core/rs/src/entities/docker/container.rs:71",
        why="`#[serde(default, skip_serializing)]`: a container list item never carries its labels (\"too big to send "
            "with container list\"), so an answer that has them is not Core's"),
]

# Fields Core leaves out of an answer when they are empty (`skip_serializing_if`, or always: `skip_serializing`);
# every other field of an answer must be present. (model in komodo-api, field): the Rust line that skips it. The
# list is every such field in client/core/rs/src/entities of a type that an answer the server reads contains.
SKIPPED_WHEN_EMPTY: dict[tuple[str, str], str] = {
    ("Alert", "id"): "client/core/rs/src/entities/alert.rs:32",
    ("FullContainerStats", "storage_stats"): "client/core/rs/src/entities/docker/stats.rs:47",
    ("FullContainerStats", "cpu_stats"): "client/core/rs/src/entities/docker/stats.rs:51",
    ("FullContainerStats", "precpu_stats"): "client/core/rs/src/entities/docker/stats.rs:55",
    ("FullContainerStats", "memory_stats"): "client/core/rs/src/entities/docker/stats.rs:59",
    ("FullContainerStats", "networks"): "client/core/rs/src/entities/docker/stats.rs:64",
    ("Permission", "id"): "client/core/rs/src/entities/permission.rs:37",
    ("Resource", "id"): "client/core/rs/src/entities/resource.rs:33",
    ("StackFileDependency", "services"): "client/core/rs/src/entities/stack.rs:1186",
    ("StackFileDependency", "requires"): "client/core/rs/src/entities/stack.rs:1189",
    ("Tag", "id"): "client/core/rs/src/entities/tag.rs:27",
    ("User", "id"): "client/core/rs/src/entities/user.rs:33",
    ("UserGroup", "id"): "client/core/rs/src/entities/user_group.rs:32",
    ("Update", "id"): "client/core/rs/src/entities/update.rs:29",
    ("Update", "version"): "client/core/rs/src/entities/update.rs:68",
    ("Update", "commit_hash"): "client/core/rs/src/entities/update.rs:71",
    ("Update", "other_data"): "client/core/rs/src/entities/update.rs:74",
    ("Update", "prev_toml"): "client/core/rs/src/entities/update.rs:77",
    ("Update", "current_toml"): "client/core/rs/src/entities/update.rs:80",
    ("UpdateListItem", "version"): "client/core/rs/src/entities/update.rs:142",
    ("UpdateListItem", "other_data"): "client/core/rs/src/entities/update.rs:145",
    ("Variable", "description"): "client/core/rs/src/entities/variable.rs:20",
    ("ContainerListItem", "server_id"): "client/core/rs/src/entities/docker/container.rs:23",
    ("ContainerListItem", "server_name"): "client/core/rs/src/entities/docker/container.rs:26",
    ("ContainerListItem", "id"): "client/core/rs/src/entities/docker/container.rs:31",
    ("ContainerListItem", "image"): "client/core/rs/src/entities/docker/container.rs:34",
    ("ContainerListItem", "image_id"): "client/core/rs/src/entities/docker/container.rs:37",
    ("ContainerListItem", "created"): "client/core/rs/src/entities/docker/container.rs:40",
    ("ContainerListItem", "size_rw"): "client/core/rs/src/entities/docker/container.rs:43",
    ("ContainerListItem", "size_root_fs"): "client/core/rs/src/entities/docker/container.rs:46",
    ("ContainerListItem", "status"): "client/core/rs/src/entities/docker/container.rs:51",
    ("ContainerListItem", "network_mode"): "client/core/rs/src/entities/docker/container.rs:54",
    ("ContainerListItem", "networks"): "client/core/rs/src/entities/docker/container.rs:57",
    ("ContainerListItem", "ports"): "client/core/rs/src/entities/docker/container.rs:60",
    ("ContainerListItem", "volumes"): "client/core/rs/src/entities/docker/container.rs:63",
    ("ContainerListItem", "stats"): "client/core/rs/src/entities/docker/container.rs:66",
}
