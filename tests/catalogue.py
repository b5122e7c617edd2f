"""The tool catalogue (shared/tool-catalogue.md) as a requirements manifest, and the reference's parameters."""

READ_TOOLS = [
    # the reference's 16
    "ListServers", "GetServer", "ListDeployments", "GetDeployment", "ListStacks", "GetStack", "ListBuilds",
    "GetBuild", "ListRepos", "GetRepo", "ListProcedures", "GetProcedure", "ListActions", "GetAction", "ListAlerts",
    "GetAlert",
    # the catalogue's 17 more
    "GetSummary", "GetDeploymentLog", "GetStackLog", "ListContainers", "GetContainerLog", "GetServerStats",
    "ListUpdates", "GetJob", "ListResourceSyncs", "GetResourceSync", "ListBuilders", "ListAlerters", "ListTags",
    "ListVariables", "ListSchedules", "GetVersion", "ExportToml",
    # issue 12: one container in depth
    "InspectContainer",
    # issue 13: diagnosis in one call
    "Diagnose", "FindProblems",
    # issue 13: several Komodo instances
    "ListInstances",
]

EXECUTE_TOOLS = [
    # the reference's 9
    "Deploy", "Build", "StartServer", "StopServer", "RestartServer", "RunProcedure", "TriggerAction", "PullRepo",
    "CloneRepo",
    # the catalogue's 16 more
    "StartDeployment", "StopDeployment", "RestartDeployment", "DestroyDeployment", "DeployStack", "StartStack",
    "StopStack", "RestartStack", "PullStack", "DestroyStack", "CancelBuild", "BuildRepo", "RunSync", "PruneServer",
    "CancelJob", "WaitForJob",
    # issue 12: single containers, and pausing deployments and stacks
    "StartContainer", "StopContainer", "RestartContainer", "PauseContainer", "UnpauseContainer", "PauseDeployment",
    "UnpauseDeployment", "PauseStack", "UnpauseStack",
]
WRITE_TOOLS = [
    *(f"{verb}{kind}" for kind in ("Deployment", "Stack", "Build", "Repo", "Procedure", "Action")
      for verb in ("Create", "Update", "Delete")),
    "UpdateResourceMeta", "CreateVariable", "UpdateVariable", "DeleteVariable", "CloseAlert",
]
# Not in the catalogue: the terminal toolset, off unless asked for by name.
TERMINAL_TOOLS = ["ServerCommand", "ContainerCommand", "DeploymentCommand", "StackCommand"]


def qualified(kind: str, operations: list[str]) -> set[str]:
    return {f"komodo_{kind}_{operation}" for operation in operations}


# Every tool of the `all` toolset: the catalogue's read, execute and write tools.
ALL_TOOLS = qualified("read", READ_TOOLS) | qualified("execute", EXECUTE_TOOLS) | qualified("write", WRITE_TOOLS)

# The default toolset `core` (catalogue, "Toolsets and safety"): the reference's 25 tools and 14 more — starting,
# stopping and restarting one deployment or stack is in; GetServerStats is not (GetServer carries live CPU and memory),
# nor ListUpdates and ListContainers (Diagnose answers a resource's failed jobs and its container's state).
CORE_TOOLS = (qualified("read", READ_TOOLS[:16]) | qualified("execute", EXECUTE_TOOLS[:9])
              | qualified("read", ["GetSummary", "GetJob", "GetDeploymentLog", "GetStackLog", "Diagnose",
                                   "FindProblems"])
              | qualified("execute", ["WaitForJob", "DeployStack", "StartDeployment", "StopDeployment",
                                      "RestartDeployment", "StartStack", "StopStack", "RestartStack"]))
# With several Komodo instances (the demo has two), ListInstances takes StartStack's place: still 39.
CORE_TOOLS_SEVERAL = CORE_TOOLS - {"komodo_execute_StartStack"} | {"komodo_read_ListInstances"}

DESTRUCTIVE = {*(f"komodo_write_Delete{kind}" for kind in ("Deployment", "Stack", "Build", "Repo", "Procedure",
                                                           "Action", "Variable")),"komodo_execute_StopServer", "komodo_execute_StopDeployment", "komodo_execute_DestroyDeployment",
               "komodo_execute_StopStack", "komodo_execute_DestroyStack", "komodo_execute_PruneServer",
               "komodo_execute_CancelJob", "komodo_execute_StopContainer", "komodo_execute_PauseContainer",
               "komodo_execute_PauseDeployment", "komodo_execute_PauseStack"}

PAGED = {"page", "page_size"}
# seed-api-reference.md: each tool's parameters, exactly.
REFERENCE_PARAMETERS = {
    "komodo_read_ListServers": PAGED | {"status"},
    "komodo_read_GetServer": {"id"},
    "komodo_read_ListDeployments": PAGED | {"server_id", "status"},
    "komodo_read_GetDeployment": {"id"},
    "komodo_read_ListStacks": PAGED | {"status"},
    "komodo_read_GetStack": {"id"},
    "komodo_read_ListBuilds": PAGED | {"repo_id", "status"},
    "komodo_read_GetBuild": {"id"},
    "komodo_read_ListRepos": PAGED | {"provider"},
    "komodo_read_GetRepo": {"id"},
    "komodo_read_ListProcedures": PAGED | {"trigger"},
    "komodo_read_GetProcedure": {"id"},
    "komodo_read_ListActions": PAGED | {"type", "enabled"},
    "komodo_read_GetAction": {"id"},
    "komodo_read_ListAlerts": PAGED | {"severity", "resolved", "resource_type"},
    "komodo_read_GetAlert": {"id"},
    "komodo_execute_Deploy": {"id", "options"},
    "komodo_execute_Build": {"id", "options"},
    "komodo_execute_StartServer": {"id", "options"},
    "komodo_execute_StopServer": {"id", "options", "confirm"},  # destructive: confirm is the documented addition
    "komodo_execute_RestartServer": {"id", "options"},
    "komodo_execute_RunProcedure": {"id", "variables", "options"},
    "komodo_execute_TriggerAction": {"id", "payload", "options"},
    "komodo_execute_PullRepo": {"id", "options"},
    "komodo_execute_CloneRepo": {"id", "options"},
}
REFERENCE_OPTIONS = {
    "komodo_execute_Deploy": {"force", "stopBeforeStart", "skipPull"},
    "komodo_execute_Build": {"skipCache", "skipPull", "forceBuild"},
    "komodo_execute_StartServer": {"timeout", "waitForHealthy"},
    "komodo_execute_StopServer": {"timeout", "force", "removeContainer"},
    "komodo_execute_RestartServer": {"timeout", "force", "waitForHealthy"},
    "komodo_execute_RunProcedure": {"async", "timeout"},
    "komodo_execute_TriggerAction": {"async", "retryOnFailure"},
    "komodo_execute_PullRepo": {"branch", "force", "submodules"},
    "komodo_execute_CloneRepo": {"branch", "depth", "submodules", "overwrite"},
}
REFERENCE_ENUMS = {
    ("komodo_read_ListServers", "status"): ["running", "stopped", "pending", "error"],
    ("komodo_read_ListDeployments", "status"): ["running", "stopped", "deploying", "failed"],
    ("komodo_read_ListStacks", "status"): ["active", "inactive", "deploying"],
    ("komodo_read_ListBuilds", "status"): ["pending", "building", "success", "failed"],
    ("komodo_read_ListRepos", "provider"): ["github", "gitlab", "bitbucket", "other"],
    ("komodo_read_ListProcedures", "trigger"): ["manual", "scheduled", "webhook"],
    ("komodo_read_ListActions", "type"): ["script", "api", "notification"],
    ("komodo_read_ListAlerts", "severity"): ["info", "warning", "error", "critical"],
}
