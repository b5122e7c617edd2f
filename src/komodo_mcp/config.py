"""Settings: flags, then `KOMODO_*` / `KOMODO_MCP_*` environment variables, then `*_FILE` secret files, then a TOML
config file (`--config` or KOMODO_MCP_CONFIG), then defaults — the first that sets a value wins.

Secrets are SecretStr: their repr is masked and they are only unwrapped where a header is built.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, \
    model_validator
from pydantic_settings import (BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict,
                               TomlConfigSettingsSource)

DEFAULT_RATE_LIMIT_PER_MINUTE = 100
DEFAULT_RATE_LIMIT_BURST = 200
DEFAULT_TOOLSETS = ("core",)


class ConfigError(ValueError):
    """A configuration mistake, said in one line that names the setting and its environment variable."""


# Lists come from the environment as comma-separated text, not JSON.
Names = Annotated[tuple[str, ...], NoDecode]

# Kinds of risk a policy allows or denies (tools/_policy.py places each tool): starting and stopping what runs,
# running builds and automation, changing configuration, deleting, running commands, reading unmasked secrets.
Category = Literal["lifecycle", "automation", "config", "deletion", "terminal", "secrets"]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
Categories = Annotated[tuple[Category, ...], NoDecode]


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


INSTANCE_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# An instance's secrets may come from files: `api_secret_file = "/run/secrets/x"` (or KOMODO_<NAME>_API_SECRET_FILE).
INSTANCE_SECRETS = ("api_key", "api_secret", "jwt", "password")


class Instance(BaseModel):
    """One Komodo Core among several: its URL, credentials, and what may differ per instance (policy, rate)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    ui_url: str = ""
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    jwt: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    rate_limit_per_minute: float | None = Field(None, ge=0)
    rate_limit_burst: float | None = Field(None, ge=1)
    deny: tuple[Category, ...] = ()
    allow: tuple[Category, ...] | None = None
    # A caller's X-Komodo-Api-Key belongs to one Komodo: it is sent only to instances that opt in.
    caller_credentials: bool = False

    @model_validator(mode="before")
    @classmethod
    def _secret_files(cls, values: Any) -> Any:
        """`<secret>_file` keys name a file whose content is the secret (Docker and Kubernetes secrets)."""
        if not isinstance(values, dict):
            return values
        values = dict(values)
        for secret in INSTANCE_SECRETS:
            path = values.pop(f"{secret}_file", None)
            if path and secret not in values:
                try:
                    values[secret] = Path(path).read_text().strip()
                except OSError as error:
                    raise ValueError(f"{secret}_file: cannot read {path}: {error.strerror}") from None
        for listed in ("deny", "allow"):
            if isinstance(values.get(listed), str):
                values[listed] = tuple(part.strip() for part in values[listed].split(",") if part.strip())
        return values

    @field_validator("url", "ui_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)

    # Komodo connection.
    url: str = Field("", validation_alias=_env("url", "KOMODO_URL"),
                     description="Komodo Core base URL, e.g. https://komodo.example.com")
    api_key: SecretStr | None = Field(None, validation_alias=_env("api_key", "KOMODO_API_KEY"))
    api_secret: SecretStr | None = Field(None, validation_alias=_env("api_secret", "KOMODO_API_SECRET"))
    jwt: SecretStr | None = Field(None, validation_alias=_env("jwt", "KOMODO_JWT"))
    username: str | None = Field(None, validation_alias=_env("username", "KOMODO_USERNAME"))
    password: SecretStr | None = Field(None, validation_alias=_env("password", "KOMODO_PASSWORD"))
    ui_url: str = Field("", validation_alias=_env("ui_url", "KOMODO_UI_URL"),
                        description="Base URL of the Komodo UI for log_url links (defaults to the Core URL)")
    timeout: float = Field(30.0, gt=0, validation_alias=_env("timeout", "KOMODO_TIMEOUT"))
    retries: int = Field(3, ge=0, le=10, validation_alias=_env("retries", "KOMODO_MCP_RETRIES"))
    rate_limit_per_minute: float = Field(DEFAULT_RATE_LIMIT_PER_MINUTE, ge=0,
                                         validation_alias=_env("rate_limit_per_minute", "KOMODO_MCP_RATE_LIMIT"))
    rate_limit_burst: float = Field(DEFAULT_RATE_LIMIT_BURST, ge=1,
                                    validation_alias=_env("rate_limit_burst", "KOMODO_MCP_RATE_LIMIT_BURST"))

    # This server.
    transport: Literal["stdio", "http"] = Field("stdio", validation_alias=_env("transport", "KOMODO_MCP_TRANSPORT"))
    host: str = Field("127.0.0.1", validation_alias=_env("host", "KOMODO_MCP_HOST"))
    port: int = Field(8000, ge=0, le=65535, validation_alias=_env("port", "KOMODO_MCP_PORT"))
    allowed_hosts: Names = Field((), validation_alias=_env("allowed_hosts", "KOMODO_MCP_ALLOWED_HOSTS"),
                                           description="Host headers accepted over HTTP (DNS-rebinding protection)")
    allowed_origins: Names = Field((), validation_alias=_env("allowed_origins", "KOMODO_MCP_ALLOWED_ORIGINS"))
    public_url: str = Field("", validation_alias=_env("public_url", "KOMODO_MCP_PUBLIC_URL"),
                            description="This server's public /mcp URL, the OAuth resource identifier")
    auth_token: SecretStr | None = Field(None, validation_alias=_env("auth_token", "KOMODO_MCP_AUTH_TOKEN"))
    oauth_issuer: str = Field("", validation_alias=_env("oauth_issuer", "KOMODO_MCP_OAUTH_ISSUER"))
    oauth_audience: str = Field("", validation_alias=_env("oauth_audience", "KOMODO_MCP_OAUTH_AUDIENCE"))
    oauth_jwks_url: str = Field("", validation_alias=_env("oauth_jwks_url", "KOMODO_MCP_OAUTH_JWKS_URL"))
    oauth_scopes: Names = Field((), validation_alias=_env("oauth_scopes", "KOMODO_MCP_OAUTH_SCOPES"))
    tls_cert: str = Field("", validation_alias=_env("tls_cert", "KOMODO_MCP_TLS_CERT"), description="PEM certificate")
    tls_key: str = Field("", validation_alias=_env("tls_key", "KOMODO_MCP_TLS_KEY"), description="PEM private key")
    max_request_bytes: int = Field(4 * 1024 * 1024, ge=1024, validation_alias=_env(
        "max_request_bytes", "KOMODO_MCP_MAX_REQUEST_BYTES"), description="Largest HTTP request body accepted")
    max_sessions: int = Field(1000, ge=1, validation_alias=_env("max_sessions", "KOMODO_MCP_MAX_SESSIONS"),
                              description="Concurrent sessions (stateful HTTP only)")
    stateless: bool = Field(True, validation_alias=_env("stateless", "KOMODO_MCP_STATELESS"),
                            description="HTTP without server-side sessions, so replicas need no sticky sessions")
    request_state_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field((), validation_alias=_env(
        "request_state_keys", "KOMODO_MCP_REQUEST_STATE_KEYS"),
        description="Keys sealing input-required request state; replicas must share them (first one seals)")
    allow_unauthenticated: bool = Field(False, validation_alias=_env("allow_unauthenticated",
                                                                     "KOMODO_MCP_ALLOW_UNAUTHENTICATED"))
    caller_credentials: bool = Field(True, validation_alias=_env("caller_credentials", "KOMODO_MCP_CALLER_CREDENTIALS"),
                                     description="Over HTTP, use a caller's X-Komodo-Api-Key/-Secret when sent")
    toolsets: Names = Field(DEFAULT_TOOLSETS, validation_alias=_env("toolsets", "KOMODO_MCP_TOOLSETS"))
    tools: Names = Field((), validation_alias=_env("tools", "KOMODO_MCP_TOOLS"),
                                   description="Tools to add by name, on top of the toolsets")
    exclude_tools: Names = Field((), validation_alias=_env("exclude_tools", "KOMODO_MCP_EXCLUDE_TOOLS"))
    read_only: bool = Field(False, validation_alias=_env("read_only", "KOMODO_MCP_READ_ONLY"))
    disable_destructive: bool = Field(False, validation_alias=_env("disable_destructive",
                                                                   "KOMODO_MCP_DISABLE_DESTRUCTIVE"),
                                      description="Leave out every destructive tool, keep the rest")
    show_secrets: bool = Field(False, validation_alias=_env("show_secrets", "KOMODO_MCP_SHOW_SECRETS"))
    deny: Categories = Field((), validation_alias=_env("deny", "KOMODO_MCP_DENY"),
                             description="Risk categories whose tools are left out: " + ", ".join(CATEGORIES))
    allow: Categories | None = Field(None, validation_alias=_env("allow", "KOMODO_MCP_ALLOW"),
                                     description="If set, the only risk categories served; deny still wins")
    confirm: bool = Field(True, validation_alias=_env("confirm", "KOMODO_MCP_CONFIRM"),
                          description="Ask before destructive tools act (--no-confirm turns it off)")
    confirm_fallback: Literal["argument", "allow", "deny"] = Field(
        "argument", validation_alias=_env("confirm_fallback", "KOMODO_MCP_CONFIRM_FALLBACK"),
        description="Without elicitation: require confirm=true (argument), go ahead (allow) or refuse (deny)")
    audit_log: str = Field("stderr", validation_alias=_env("audit_log", "KOMODO_MCP_AUDIT_LOG"),
                           description="Where execute/write calls are recorded: stderr, a file path, or off")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias=_env("log_level", "KOMODO_MCP_LOG_LEVEL"))
    log_budget_chars: int = Field(20_000, ge=1_000, validation_alias=_env("log_budget_chars", "KOMODO_MCP_LOG_BUDGET"))
    demo: bool = Field(False, validation_alias=_env("demo", "KOMODO_MCP_DEMO"))

    # Several Komodo instances (see instance_settings): name → URL, credentials, policy. Empty: the one Komodo above.
    instances: dict[str, Instance] = Field({}, validation_alias=_env("instances"))
    default_instance: str = Field("", validation_alias=_env("default_instance", "KOMODO_MCP_DEFAULT_INSTANCE"),
                                  description="The instance a tool call without `instance` goes to (the first)")

    @field_validator("toolsets", "tools", "exclude_tools", "allowed_hosts", "allowed_origins", "oauth_scopes",
                     "request_state_keys", "deny", "allow", mode="before")
    @classmethod
    def _split_lists(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def secret_values(self) -> list[str]:
        """Every configured secret, to scrub from anything that leaves the process."""
        values = [getattr(self, name) for name in type(self).model_fields]
        values += [getattr(instance, name) for instance in self.instances.values() for name in INSTANCE_SECRETS]
        flat = [item for value in values for item in (value if isinstance(value, tuple) else (value,))]
        return [item.get_secret_value() for item in flat if isinstance(item, SecretStr)]

    @property
    def default_instance_name(self) -> str:
        return self.default_instance or next(iter(self.instances), "")

    def instance_settings(self, name: str) -> Settings:
        """The settings one instance's client and tools run with: its URL and credentials, its rate limit if it sets
        one, and the server's policy with the instance's own denials added (it can narrow, never widen)."""
        instance = self.instances[name]
        allow = self.allow if instance.allow is None else tuple(
            category for category in instance.allow if self.allow is None or category in self.allow)
        return self.model_copy(update={
            "url": instance.url, "ui_url": instance.ui_url, "api_key": instance.api_key,
            "api_secret": instance.api_secret, "jwt": instance.jwt, "username": instance.username,
            "password": instance.password, "deny": tuple(dict.fromkeys((*self.deny, *instance.deny))),
            "allow": allow, "instances": {},
            "caller_credentials": self.caller_credentials and instance.caller_credentials,
            "rate_limit_per_minute": _first(instance.rate_limit_per_minute, self.rate_limit_per_minute),
            "rate_limit_burst": _first(instance.rate_limit_burst, self.rate_limit_burst)})

    def denial(self, category: str) -> str | None:
        """The setting that denies a risk category (`deny` or `allow`), if one does."""
        if category in self.deny:
            return "deny"
        if self.allow is not None and category not in self.allow:
            return "allow"
        return None

    @property
    def auth_mode(self) -> Literal["api_key", "jwt", "password", "none"]:
        if self.api_key and self.api_secret:
            return "api_key"
        if self.jwt:
            return "jwt"
        if self.username and self.password:
            return "password"
        return "none"


def _first(value: float | None, fallback: float) -> float:
    return fallback if value is None else value


# Secrets that may come from a file (Docker and Kubernetes secrets): set e.g. KOMODO_API_SECRET_FILE=/run/secrets/x.
SECRET_FILE_VARIABLES = {"api_key": "KOMODO_API_KEY", "api_secret": "KOMODO_API_SECRET", "jwt": "KOMODO_JWT",
                         "password": "KOMODO_PASSWORD", "auth_token": "KOMODO_MCP_AUTH_TOKEN",
                         "request_state_keys": "KOMODO_MCP_REQUEST_STATE_KEYS"}


class SecretFiles(PydanticBaseSettingsSource):
    """Values read from the files named by `<VARIABLE>_FILE` environment variables."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values = {}
        for field, variable in SECRET_FILE_VARIABLES.items():
            path = os.environ.get(f"{variable}_FILE")
            if path:
                try:
                    values[field] = Path(path).read_text().strip()
                except OSError as error:
                    raise ConfigError(f"invalid setting {field} ({variable}_FILE): cannot read {path}: "
                                      f"{error.strerror}") from None
        return values


INSTANCE_FIELDS = tuple(Instance.model_fields)


def instance_variable(instance: str, field: str) -> str:
    """The environment variable of one instance's setting (`staging`, `api_secret` → KOMODO_STAGING_API_SECRET)."""
    return f"KOMODO_{instance.upper().replace('-', '_')}_{field.upper()}"


class InstancesFromEnvironment(PydanticBaseSettingsSource):
    """KOMODO_MCP_INSTANCES=staging,production names the instances; each one's settings are KOMODO_<NAME>_URL,
    KOMODO_<NAME>_API_KEY, KOMODO_<NAME>_API_SECRET_FILE, … (the name upper-cased, `-` as `_`)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        names = [name.strip() for name in os.environ.get("KOMODO_MCP_INSTANCES", "").split(",") if name.strip()]
        instances = {}
        for name in names:
            values = {}
            for field in INSTANCE_FIELDS:
                for key in ((field, f"{field}_file") if field in INSTANCE_SECRETS else (field,)):
                    value = os.environ.get(instance_variable(name, key))
                    if value:
                        values[key] = value
            instances[name] = values
        return {"instances": instances} if instances else {}


def variable_of(field: str) -> str:
    """The environment variable that sets a field (`port` → KOMODO_MCP_PORT)."""
    return Settings.model_fields[field].validation_alias.choices[-1]  # type: ignore[union-attr]  # all are _env(…)


def _named(field: str) -> str:
    return f"{field} ({variable_of(field)})" if field in Settings.model_fields else field


def _config_file_keys(path: str) -> None:
    """A misspelt key in the config file would otherwise be dropped silently: name it, with the closest setting."""
    try:
        keys = tomllib.loads(Path(path).read_text())
    except OSError as error:
        raise ConfigError(f"config file {path}: cannot read it: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None
    for key in keys:
        if key not in Settings.model_fields:
            closest = difflib.get_close_matches(key, list(Settings.model_fields), n=1)
            hint = f"; did you mean {closest[0]}?" if closest else ""
            raise ConfigError(f"config file {path}: unknown setting {key!r}{hint}")


def _one_line(error: ValidationError) -> ConfigError:
    """pydantic's multi-line report (class name, docs URL) as one line per mistake, without secret values."""
    mistakes = []
    for item in error.errors(include_url=False):
        field = str(item["loc"][0]) if item["loc"] else ""
        if field == "instances":  # an instance's values may be its secrets: name the place, never the value
            place = " ".join(str(part) for part in item["loc"][1:3])
            mistakes.append(f"invalid setting instances {place}: {item['msg']}")
            continue
        given = "" if field in SECRET_FILE_VARIABLES or "input" not in item else f" (got {item['input']!r})"
        mistakes.append(f"invalid setting {_named(field)}: {item['msg']}{given}")
    return ConfigError("; ".join(mistakes))


def _readable(field: str, path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise ConfigError(f"invalid setting {_named(field)}: cannot read {path}: {error.strerror}") from None


URL_SETTINGS = ("url", "ui_url", "public_url", "oauth_issuer", "oauth_jwks_url")


def check_policy(settings: Settings) -> None:
    """A policy that denies secrets cannot run with --show-secrets: no tool may return an unmasked value."""
    denied_by = settings.denial("secrets")
    if settings.show_secrets and denied_by:
        raise ConfigError(f"{_named('show_secrets')} is set but {_named(denied_by)} denies the secrets category: "
                          "drop one of them")
    for name in settings.instances:
        if settings.show_secrets and settings.instance_settings(name).denial("secrets"):
            raise ConfigError(f"{_named('show_secrets')} is set but instance {name!r} denies the secrets category: "
                              "drop one of them")


CONNECTION_SETTINGS = ("url", "ui_url", "api_key", "api_secret", "jwt", "username", "password")
# Credentials that only work together, for the server's own Komodo and each instance alike: (set, needs).
CREDENTIAL_PAIRS = (("api_key", "api_secret"), ("api_secret", "api_key"), ("username", "password"))


def check_instances(settings: Settings) -> None:
    """Several instances replace the single Komodo settings; each needs a URL and whole credentials."""
    if not settings.instances:
        if settings.default_instance:
            raise ConfigError(f"{_named('default_instance')} is set but no instances are (KOMODO_MCP_INSTANCES or "
                              "[instances.<name>] in the config file)")
        return
    single = [field for field in CONNECTION_SETTINGS if getattr(settings, field)]
    if single and not settings.demo:
        raise ConfigError(f"{_named(single[0])} is set, and so are instances: put the Komodo connection in one "
                          "[instances.<name>] (or KOMODO_<NAME>_*) instead")
    for name, instance in settings.instances.items():
        if not INSTANCE_NAME.fullmatch(name):
            raise ConfigError(f"instance name {name!r}: use lower-case letters, digits, - and _ (at most 32, "
                              "starting with a letter)")
        for field in ("url", "ui_url"):
            _http_url(f"instance {name!r} {field}", getattr(instance, field), required=field == "url")
        for one, other in CREDENTIAL_PAIRS:
            if getattr(instance, one) and not getattr(instance, other):
                raise ConfigError(f"instance {name!r}: {one} is set but {other} is not: set both")
    if settings.default_instance and settings.default_instance not in settings.instances:
        raise ConfigError(f"invalid setting {_named('default_instance')}: {settings.default_instance!r} is not an "
                          f"instance; known: {', '.join(settings.instances)}")


def _http_url(what: str, value: str, required: bool = False) -> None:
    parts = urlsplit(value)
    if (value or required) and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise ConfigError(f"invalid setting {what}: {value!r} is not an http(s) URL (e.g. https://komodo.example.com)")


def check_consistency(settings: Settings) -> None:
    """Mistakes no single field shows: each would otherwise surface late, as a traceback or a network error."""
    for field in URL_SETTINGS:
        if not (field == "url" and settings.demo):  # the demo serves its own Komodo
            _http_url(_named(field), getattr(settings, field))
    check_instances(settings)
    for one, other in CREDENTIAL_PAIRS:
        if getattr(settings, one) and not getattr(settings, other):
            raise ConfigError(f"{_named(one)} is set but {_named(other)} is not: set both")
    check_policy(settings)
    if bool(settings.tls_cert) != bool(settings.tls_key):
        missing = "tls_key" if settings.tls_cert else "tls_cert"
        raise ConfigError(f"HTTPS needs both a certificate and a key: set {_named(missing)}")
    for field in ("tls_cert", "tls_key"):
        if getattr(settings, field):
            _readable(field, getattr(settings, field))
    if settings.audit_log not in ("stderr", "off"):
        audit = Path(settings.audit_log)
        if not os.access(audit if audit.exists() else audit.parent, os.W_OK):
            raise ConfigError(f"invalid setting {_named('audit_log')}: cannot write {audit} (or use stderr or off)")


def load_settings(config_file: str | None = None, **flags: Any) -> Settings:
    """Settings from every source, in the documented order of precedence; a mistake raises ConfigError."""
    path = config_file or os.environ.get("KOMODO_MCP_CONFIG")
    if path and not Path(path).is_file():
        raise ConfigError(f"config file not found: {path} (--config / KOMODO_MCP_CONFIG)")
    if path:
        _config_file_keys(path)

    class Layered(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: Any, env_settings: Any,
                                       dotenv_settings: Any, file_secret_settings: Any) -> tuple[Any, ...]:
            sources = [init_settings, env_settings, SecretFiles(settings_cls), InstancesFromEnvironment(settings_cls)]
            if path:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            return tuple(sources)

    try:
        settings = Layered(**flags)
    except ValidationError as error:
        raise _one_line(error) from None
    check_consistency(settings)
    return settings
