"""The secrets scan: distinctive secrets planted in the simulator (secret variables, environment values, compose
files, build args, URLs with passwords, tokens, the server's own credentials), then every tool, error, log line
(at DEBUG), audit line, resource, prompt and completion is searched for them. Leaks must be 0."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from mcp.client import Client
from mcp.types import PromptReference, ResourceTemplateReference

from komodo_mcp.logs import configure
from komodo_mcp.server import build_server
from komodo_mcp.transports.http import http_app
from komodo_sim import ADMIN_SECRET, AsgiThread

from ..conftest import mcp_client, settings_for
from .conftest import record
from .test_fuzz import base_value

pytestmark = pytest.mark.anyio

TOKEN_TAIL = "PLANTtokenAbCdEfGhIjKlMnOpQrStUv"
PLANTED = {
    "secret variable": "PLANT-secret-variable",
    "quoted secret variable": 'PLANT"quoted\\secret',
    "env password": "PLANT-env-password",
    "env url password": "PLANT-url-password",
    "github token": f"ghp_{TOKEN_TAIL}",
    "github fine-grained token": f"github_pat_{TOKEN_TAIL}",
    "gitlab token": f"glpat-{TOKEN_TAIL}",
    "slack token": f"xoxb-{TOKEN_TAIL}",
    "aws key id": "AKIAPLANTEDKEY123456",
    "compose password": "PLANT-compose-password",
    "compose list password": "PLANT-compose-list-password",
    "one-line env password": "PLANT-one-line",
    "build arg token": "PLANT-npm-token",
    "server's own secret": ADMIN_SECRET,
}


def plant(store: Any) -> None:
    store.variables["PLANTED"] = {"name": "PLANTED", "value": PLANTED["secret variable"], "is_secret": True,
                                  "description": ""}
    store.variables["PLANTED_Q"] = {"name": "PLANTED_Q", "value": PLANTED["quoted secret variable"],
                                    "is_secret": True, "description": ""}
    store._by_name["Deployment"]["api-v2"].config["environment"] = "\n".join((
        f"DB_PASSWORD={PLANTED['env password']}",
        f"DATABASE_URL=postgres://app:{PLANTED['env url password']}@db:5432/app",
        f"CI_HELPER={PLANTED['github token']}", f"FINE={PLANTED['github fine-grained token']}",
        f"GL={PLANTED['gitlab token']}", f"HOOK={PLANTED['slack token']}", f"AWS={PLANTED['aws key id']}"))
    store._by_name["Deployment"]["worker-queue"].config["environment"] = \
        f"POSTGRES_PASSWORD={PLANTED['one-line env password']}"
    store._by_name["Stack"]["db-stack"].config["file_contents"] = (
        "services:\n  db:\n    image: postgres:16\n    environment:\n"
        f"      POSTGRES_PASSWORD: {PLANTED['compose password']}\n"
        f"      - MYSQL_ROOT_PASSWORD={PLANTED['compose list password']}\n")
    store._by_name["Build"]["api-build"].config["build_args"] = f"NPM_TOKEN={PLANTED['build arg token']}"


def leaks_in(text: str) -> list[str]:
    return [name for name, value in PLANTED.items() if value in text or json.dumps(value)[1:-1] in text]


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs() -> Any:
    """The server's real log configuration at DEBUG, its formatted lines collected."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure("DEBUG")
    collected = Collected()
    collected.setFormatter(root.handlers[0].formatter)
    root.handlers.append(collected)
    yield collected
    root.handlers[:], root.level = saved


async def test_no_planted_secret_leaves_the_server(sim, tmp_path, debug_logs):
    plant(sim.simulator.store)
    audit = tmp_path / "audit.jsonl"
    settings = settings_for(sim.url, toolsets=("all", "terminal"), confirm=False, audit_log=str(audit))
    texts: list[tuple[str, str]] = []
    hostile_ids = [f"postgres://u:{PLANTED['env url password']}@x", PLANTED["github token"], PLANTED["slack token"]]
    async with mcp_client(settings) as client:
        # Resources, prompts and completion first: the sweep below runs every tool, DeleteDeployment of the
        # planted api-v2 included.
        for uri in ("komodo://summary", "komodo://deployments/api-v2", "komodo://deployments/worker-queue",
                    "komodo://stacks/db-stack/compose"):
            texts.append((uri, (await client.read_resource(uri)).contents[0].text))
        for prompt in (await client.list_prompts()).prompts:
            arguments = {argument.name: "api-v2" for argument in prompt.arguments or []}
            texts.append((prompt.name, json.dumps((await client.get_prompt(prompt.name, arguments)).model_dump())))
        for ref in (ResourceTemplateReference(type="ref/resource", uri="komodo://deployments/{name}"),
                    PromptReference(type="ref/prompt", name="triage-deployment")):
            name = "name" if isinstance(ref, ResourceTemplateReference) else "deployment"
            completion = await client.complete(ref, {"name": name, "value": ""})
            texts.append(("completion", json.dumps(completion.model_dump())))
        before_sweep = len(texts)
        tools = [tool.model_dump(by_alias=True) for tool in (await client.list_tools()).tools]
        for tool in tools:
            schema = tool["inputSchema"]
            arguments = {name: base_value(tool, name, schema["properties"][name], sim)
                         for name in schema.get("required", [])}
            if "include_variables" in schema["properties"]:
                arguments["include_variables"] = True
            for target in ({"id": "api-v2"}, {"id": "worker-queue"}, {"id": "db-stack"}, {"id": "api-build"}):
                if "id" in arguments and tool["name"].startswith("komodo_read_"):
                    result = await client.call_tool(tool["name"], {**arguments, **target})
                    texts.append((f"{tool['name']} {target}", result.content[0].text))
            result = await client.call_tool(tool["name"], arguments)
            texts.append((tool["name"], result.content[0].text))
            if "id" in arguments:
                for hostile in hostile_ids:  # Komodo's error echoes the id back
                    result = await client.call_tool(tool["name"], {**arguments, "id": hostile})
                    texts.append((f"{tool['name']} hostile id", result.content[0].text))
        record("secret_scan_tool_calls", len(texts) - before_sweep)
    server = AsgiThread(http_app(build_server(settings, check=False), settings))  # HTTP: its loggers too
    url = server.start() + "/mcp"
    try:
        async with Client(url, mode="2026-07-28") as client:
            for tool, arguments in (("komodo_read_GetDeployment", {"id": "api-v2"}),
                                    ("komodo_read_GetStack", {"id": "db-stack"})):
                texts.append((f"http {tool}", (await client.call_tool(tool, arguments)).content[0].text))
    finally:
        server.stop()
    dependency_dumps = [line for line in debug_logs.lines if '"logger": "sse_starlette' in line]
    assert not dependency_dumps, dependency_dumps[:1]  # it writes every SSE event (whole results) at DEBUG
    texts += [("log line", line) for line in debug_logs.lines]
    texts += [("audit line", line) for line in audit.read_text().splitlines()]
    record("secret_scan_texts", len(texts))
    record("planted_secrets", len(PLANTED))
    leaks = [(where, leaks_in(text)) for where, text in texts if leaks_in(text)]
    record("leaks", len(leaks))
    assert not leaks, leaks[:10]
