"""Settings from the environment, as operators and container platforms set them."""

from __future__ import annotations

from komodo_mcp.config import Settings


def test_lists_and_secrets_from_the_environment(monkeypatch):
    monkeypatch.setenv("KOMODO_URL", "https://komodo.example.com/")
    monkeypatch.setenv("KOMODO_API_SECRET", "S_x_S")
    monkeypatch.setenv("KOMODO_MCP_TOOLSETS", "read, execute")
    monkeypatch.setenv("KOMODO_MCP_EXCLUDE_TOOLS", "komodo_execute_Deploy")
    monkeypatch.setenv("KOMODO_MCP_REQUEST_STATE_KEYS", "k1,k2")
    monkeypatch.setenv("KOMODO_MCP_READ_ONLY", "true")
    settings = Settings()
    assert settings.url == "https://komodo.example.com" and settings.read_only
    assert settings.toolsets == ("read", "execute") and settings.exclude_tools == ("komodo_execute_Deploy",)
    assert [key.get_secret_value() for key in settings.request_state_keys] == ["k1", "k2"]
    assert "S_x_S" not in repr(settings) and "k1" not in repr(settings)


def test_flags_override_the_environment(monkeypatch):
    monkeypatch.setenv("KOMODO_MCP_TOOLSETS", "read")
    assert Settings(toolsets="all").toolsets == ("all",)
