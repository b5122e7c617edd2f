"""The tool catalogue: one module per resource family, each tool a ToolSpec declared in its module."""

from . import (actions, alerts, builds, containers, deployments, diagnose, jobs, procedures, repos, servers, stacks,
               syncs, system, terminal, variables)

# Catalogue order: what tools/list shows, family by family.
FAMILIES = (system, diagnose, servers, containers, deployments, stacks, builds, repos, procedures, actions, alerts, jobs,
            syncs, variables, terminal)

__all__ = ["FAMILIES"]
