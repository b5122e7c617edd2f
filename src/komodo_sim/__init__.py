"""A Komodo Core 2.3 simulator: a real HTTP server speaking Komodo's wire protocol over a seeded fleet.

It imports nothing from komodo_mcp, so any Komodo client can be tested against it.
"""

from .app import AsgiThread, Simulator, SimulatorThread
from .seed import ADMIN_KEY, ADMIN_PASSWORD, ADMIN_SECRET, VIEWER_KEY, VIEWER_SECRET

__all__ = ["ADMIN_KEY", "AsgiThread", "ADMIN_PASSWORD", "ADMIN_SECRET", "Simulator", "SimulatorThread", "VIEWER_KEY", "VIEWER_SECRET"]
