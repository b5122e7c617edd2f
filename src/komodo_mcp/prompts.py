"""Prompts for common operator tasks; each tells the model which tools to use, in which order."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer


def register_prompts(server: MCPServer) -> None:
    @server.prompt(name="triage-deployment", title="Triage a failing deployment")
    def triage_deployment(deployment: str) -> str:
        """Find out why a deployment is broken, and propose a fix."""
        return (
            f"The Komodo deployment `{deployment}` is misbehaving. Find out why before changing anything:\n"
            f"1. komodo_read_Diagnose id={deployment}: state, failed jobs, alerts, server health, error lines and "
            "findings, in one call; follow its next_tools.\n"
            f"2. komodo_read_GetDeployment id={deployment}: health, image, recent deploys and their results.\n"
            f"3. komodo_read_GetDeploymentLog id={deployment} with search=\"error\", then the last 200 lines.\n"
            "4. komodo_read_GetJob on a failed job for its whole output.\n"
            "Then say what is wrong, with the evidence, and propose the smallest fix (restart, redeploy, roll back "
            "the image, or a config change). Ask before running anything that changes state.")

    @server.prompt(name="roll-out-image", title="Roll out a new image")
    def roll_out_image(deployment: str, image: str) -> str:
        """Move a deployment to a new image safely and confirm it is healthy."""
        return (
            f"Roll out `{image}` to the Komodo deployment `{deployment}`:\n"
            f"1. komodo_read_GetDeployment id={deployment}: note the current image (for a rollback) and health.\n"
            f"2. komodo_write_UpdateDeployment id={deployment} image={image} (needs the write toolset).\n"
            f"3. komodo_execute_Deploy id={deployment}, then komodo_execute_WaitForJob on its job_id.\n"
            f"4. komodo_read_GetDeployment again and komodo_read_GetDeploymentLog tail=100: healthy and quiet?\n"
            "If the deploy failed or the container is unhealthy, show the evidence and offer to roll back to the "
            "previous image the same way.")

    @server.prompt(name="review-alerts", title="Review open alerts")
    def review_alerts() -> str:
        """Summarise what Komodo is alerting about and what to do first."""
        return (
            "Review the open Komodo alerts:\n"
            "1. komodo_read_GetSummary for the fleet at a glance.\n"
            "2. komodo_read_ListAlerts resolved=false; komodo_read_GetAlert on the critical ones.\n"
            "3. For each affected resource, one Get call for the evidence (server stats, deployment state, build "
            "job output).\n"
            "Group the alerts by cause, rank them by impact, and say what to do first. Change nothing without "
            "asking.")
