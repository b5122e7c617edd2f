"""The tool catalogue: one module per resource family, each tool a ToolSpec declared in its module."""

from . import alerts, deployments, servers

FAMILIES = (servers, deployments, alerts)

__all__ = ["FAMILIES"]
