"""komodo-mcp: an MCP server for Komodo (komo.do)."""

__version__ = "0.1.0"
