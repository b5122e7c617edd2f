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


def test_precedence_flags_then_environment_then_secret_files_then_config_file(monkeypatch, tmp_path):
    from komodo_mcp.config import load_settings

    config = tmp_path / "komodo-mcp.toml"
    config.write_text('url = "https://from-file.example"\ntoolsets = ["read"]\napi_key = "K_file_K"\napi_secret = "S_file_S"\n'
                      'read_only = true\nlog_level = "DEBUG"\n')
    secret = tmp_path / "secret"
    secret.write_text("S_from_secret_file_S\n")
    monkeypatch.setenv("KOMODO_URL", "https://from-env.example")
    monkeypatch.setenv("KOMODO_API_SECRET_FILE", str(secret))
    settings = load_settings(str(config), toolsets="all")
    assert settings.toolsets == ("all",)  # flag over file
    assert settings.url == "https://from-env.example"  # environment over file
    assert settings.api_secret.get_secret_value() == "S_from_secret_file_S"  # secret file over config file
    assert settings.read_only and settings.log_level == "DEBUG"  # the file where nothing else speaks
    monkeypatch.setenv("KOMODO_API_SECRET", "S_env_S")
    assert load_settings(str(config)).api_secret.get_secret_value() == "S_env_S"  # environment over secret file


def test_unreadable_secret_file_and_missing_config_are_errors(monkeypatch, tmp_path):
    import pytest

    from komodo_mcp.config import load_settings

    monkeypatch.setenv("KOMODO_MCP_AUTH_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="KOMODO_MCP_AUTH_TOKEN_FILE"):
        load_settings()
    monkeypatch.delenv("KOMODO_MCP_AUTH_TOKEN_FILE")
    with pytest.raises(ValueError, match="config file not found"):
        load_settings(str(tmp_path / "nope.toml"))


def test_config_check_tests_the_connection(shared_sim, tmp_path):
    import os
    import subprocess
    import sys

    from komodo_sim import ADMIN_KEY, ADMIN_SECRET

    def check(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "komodo_mcp", "config", "check", *args], capture_output=True,
                              text=True, timeout=60, env={**os.environ, "KOMODO_URL": shared_sim.url,
                                                          "KOMODO_API_KEY": ADMIN_KEY, **env})
    good = check(KOMODO_API_SECRET=ADMIN_SECRET)
    bad = check(KOMODO_API_SECRET="S_wrong_S", KOMODO_MCP_RETRIES="0")
    (tmp_path / "bad.toml").write_text('toolsets = ["everything"]\n')
    invalid = check("--config", str(tmp_path / "bad.toml"), KOMODO_API_SECRET=ADMIN_SECRET)
    assert good.returncode == 0 and "accepts these credentials" in good.stderr and ADMIN_SECRET not in good.stdout
    assert bad.returncode == 1 and "AUTH_ERROR" in bad.stderr and "S_wrong_S" not in bad.stdout + bad.stderr
    assert invalid.returncode == 2 and "unknown toolset" in invalid.stderr


def test_config_check_demo_checks_the_simulator_whatever_url_is_set():
    import os
    import subprocess
    import sys

    from .processes import free_port

    result = subprocess.run([sys.executable, "-m", "komodo_mcp", "config", "check", "--demo"], capture_output=True,
                            text=True, timeout=60, env={**os.environ, "KOMODO_URL": f"http://127.0.0.1:{free_port()}"})
    assert result.returncode == 0 and "Komodo 2.3.2 at http://127.0.0.1:" in result.stderr
    assert "accepts these credentials" in result.stderr


def test_every_secret_setting_is_known_for_scrubbing():
    settings = Settings(api_key="K_a_K", api_secret="S_b_S", jwt="j.w.t", password="pw", auth_token="tok",
                        request_state_keys="k1,k2")
    assert sorted(settings.secret_values()) == sorted(["K_a_K", "S_b_S", "j.w.t", "pw", "tok", "k1", "k2"])


def test_every_configuration_mistake_is_one_line_naming_the_setting_and_exit_2(tmp_path):
    import os
    import subprocess
    import sys

    from .processes import free_port

    def start(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "komodo_mcp", *args], capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL,
                              env={**os.environ, "KOMODO_MCP_AUDIT_LOG": "off", **env})

    (tmp_path / "typo.toml").write_text('toolset = ["read"]\n')
    url = f"http://127.0.0.1:{free_port()}"
    mistakes = {
        "KOMODO_MCP_TLS_CERT": start("--transport", "http", "--tls-cert", "/nope.pem", "--tls-key", "/nope.key",
                                     KOMODO_URL=url),
        "KOMODO_URL": start("config", "check", KOMODO_URL="komodo.example.com", KOMODO_API_KEY="K_a_K",
                            KOMODO_API_SECRET="S_b_S"),
        "KOMODO_API_SECRET": start("config", "check", KOMODO_URL=url, KOMODO_API_KEY="K_a_K"),
        "KOMODO_MCP_PORT": start("config", "check", KOMODO_URL=url, KOMODO_MCP_PORT="80a"),
        "KOMODO_TIMEOUT": start("tools", KOMODO_TIMEOUT="-1"),
        "KOMODO_MCP_OAUTH_ISSUER": start("tools", KOMODO_MCP_OAUTH_ISSUER="auth.example.com"),
        "KOMODO_MCP_AUDIT_LOG": start("tools", "--audit-log", str(tmp_path / "missing-dir" / "audit.log")),
        "did you mean toolsets?": start("tools", "--config", str(tmp_path / "typo.toml")),
    }
    for named, result in mistakes.items():
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (named, result.stderr)
        assert len(lines) == 1 and named in lines[0], (named, result.stderr)
        assert not any(word in result.stderr for word in ("Traceback", "Layered", "pydantic.dev", "retrying"))
    assert "/nope.pem" in mistakes["KOMODO_MCP_TLS_CERT"].stderr
    assert "S_b_S" not in mistakes["KOMODO_URL"].stderr


def test_a_misspelt_config_file_key_is_named(tmp_path):
    import pytest

    from komodo_mcp.config import ConfigError, load_settings

    (tmp_path / "typo.toml").write_text('url = "https://komodo.example.com"\nread_onyl = true\n')
    (tmp_path / "broken.toml").write_text('url = "https://komodo.example.com\n')
    with pytest.raises(ConfigError, match="unknown setting 'read_onyl'; did you mean read_only"):
        load_settings(str(tmp_path / "typo.toml"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(str(tmp_path / "broken.toml"))
