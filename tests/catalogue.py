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
]

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
