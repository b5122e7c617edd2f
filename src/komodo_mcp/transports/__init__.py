"""How the server is reached: stdio (default) and Streamable HTTP."""
