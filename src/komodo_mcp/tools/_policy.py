"""The policy by kind of risk: which categories each tool belongs to, and whether the settings deny it.

Categories come from a tool's kind, family and operation, with the few exceptions named below, so a new tool is
placed where its siblings are. A tool with no category (every read, WaitForJob, CloseAlert) is never denied by
policy. `secrets` holds no tool: what reveals secret values is --show-secrets, which a policy denying secrets
forbids at startup (config.check_policy).
"""

from __future__ import annotations

from ..config import Settings, instance_variable, variable_of
from ._spec import ToolSpec

# Execute tools that start, stop or change what runs; and those that run builds and automation.
LIFECYCLE_FAMILIES = frozenset({"servers", "containers", "deployments", "stacks"})
AUTOMATION_FAMILIES = frozenset({"builds", "repos", "procedures", "actions", "syncs"})
# Write tools that change what runs (resource configuration, variables, tags and descriptions).
CONFIG_FAMILIES = frozenset({"deployments", "stacks", "builds", "repos", "procedures", "actions", "variables",
                             "system"})
EXCEPTIONS: dict[str, frozenset[str]] = {
    "komodo_execute_WaitForJob": frozenset(),  # only watches a job
    "komodo_execute_CancelJob": frozenset({"automation"}),  # stops any job: as risky as the automation it stops
    "komodo_write_CloseAlert": frozenset(),  # marks an alert resolved; nothing that runs changes
}


def categories_of(spec: ToolSpec) -> frozenset[str]:
    """The risk categories a tool belongs to; a tool this cannot place is an error for tests to catch."""
    if spec.name in EXCEPTIONS:
        return EXCEPTIONS[spec.name]
    if spec.kind == "read":
        return frozenset()
    if spec.kind == "terminal":
        return frozenset({"terminal"})
    if spec.operation.startswith("Delete"):
        return frozenset({"deletion"})
    if spec.operation.startswith("Destroy"):  # removes the containers: it also stops what runs
        return frozenset({"deletion", "lifecycle"})
    if spec.kind == "execute" and spec.family in LIFECYCLE_FAMILIES:
        return frozenset({"lifecycle"})
    if spec.kind == "execute" and spec.family in AUTOMATION_FAMILIES:
        return frozenset({"automation"})
    if spec.kind == "write" and spec.family in CONFIG_FAMILIES:
        return frozenset({"config"})
    raise ValueError(f"{spec.name} has no risk category: place it in tools/_policy.py")


def policy_denial(spec: ToolSpec, settings: Settings) -> tuple[str, str] | None:
    """The first denied category of a tool and the setting that denies it (`deny` or `allow`; `instances` when
    each of several instances' own policy denies it), if any. A tool some instance allows is served; a call on an
    instance that denies it is refused then (server.instance_denial_body)."""
    for category in sorted(categories_of(spec)):
        setting = settings.denial(category)
        if setting:
            return category, setting
    if settings.instances:
        per_instance = [policy_denial(spec, settings.instance_settings(name)) for name in settings.instances]
        if all(per_instance):
            return per_instance[0][0], "instances"  # type: ignore[index]  # all() saw each one set
    return None


def denial_text(category: str, setting: str) -> str:
    """What denies a category and how to allow it, naming the flag, the variable and the config key."""
    if setting == "instances":
        return (f"every instance's policy denies {category}: allow it in one (`deny`/`allow` in "
                "[instances.<name>] of the config file, or KOMODO_<NAME>_DENY/_ALLOW)")
    if setting == "deny":
        return (f"the policy denies {category}: remove it from --deny ({variable_of('deny')}, "
                "`deny` in the config file)")
    return (f"the policy's allow list leaves out {category}: add it to --allow ({variable_of('allow')}, "
            "`allow` in the config file)")


def instance_denial_text(instance: str, category: str, setting: str) -> str:
    """What denies a category on one instance (its own `deny` or `allow`) and where to change it."""
    how = "denies" if setting == "deny" else "does not allow"
    return (f"its policy {how} {category} (`{setting}` in [instances.{instance}] of the config file, or "
            f"{instance_variable(instance, setting)})")
