"""The tool catalogue: one module per resource family, each tool a ToolSpec declared in its module."""

# Catalogue order: what tools/list shows, family by family. The modules are imported when a tool is first built (a
# listing reads tools/catalogue.json; see _registry.listed_specs).
FAMILIES = ("system", "diagnose", "servers", "containers", "deployments", "stacks", "builds", "repos", "procedures",
            "actions", "alerts", "jobs", "syncs", "variables", "terminal")

__all__ = ["FAMILIES"]
