"""The `komodo-mcp` command: serve (default), simulator, tools, call. Turns flags into Settings; nothing else.

Heavy imports (the MCP SDK, the simulator) happen inside the commands, so `--help` and `--version` are instant and
the stdio server starts as fast as it can.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from typing import Any

from . import __version__

# Named here so `--help` stays instant (the registry imports the MCP SDK); tests/test_cli.py checks it against the
# registry's toolset_names().
TOOLSETS_HELP = ("core (default), read, execute, write; one family: actions, alerts, builds, containers, deployments, "
                 "jobs, procedures, repos, servers, stacks, syncs, system, variables; all; terminal (never implied)")


def _server_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML config file (KOMODO_MCP_CONFIG); flags and environment win over it")
    parser.add_argument("--demo", action="store_true", default=None,
                        help="serve an embedded Komodo simulator instead of a real Komodo")
    parser.add_argument("--url", help="Komodo Core URL (KOMODO_URL)")
    parser.add_argument("--toolsets", help=f"comma-separated toolsets (KOMODO_MCP_TOOLSETS): {TOOLSETS_HELP}")
    parser.add_argument("--tools", help="comma-separated tool names to add (KOMODO_MCP_TOOLS)")
    parser.add_argument("--exclude-tools", dest="exclude_tools",
                        help="comma-separated tool names to leave out; beats every include (KOMODO_MCP_EXCLUDE_TOOLS)")
    parser.add_argument("--read-only", action="store_true", default=None, help="only read tools (KOMODO_MCP_READ_ONLY)")
    parser.add_argument("--disable-destructive", action="store_true", default=None,
                        help="leave out every destructive tool (stop, pause, destroy, delete, prune, terminal …), keep the "
                             "rest (KOMODO_MCP_DISABLE_DESTRUCTIVE)")
    parser.add_argument("--deny", help="comma-separated risk categories to leave out: lifecycle, automation, config, "
                                       "deletion, terminal, secrets (KOMODO_MCP_DENY)")
    parser.add_argument("--allow", help="comma-separated risk categories, the only ones served; --deny still wins "
                                        "(KOMODO_MCP_ALLOW)")
    parser.add_argument("--show-secrets", action="store_true", default=None,
                        help="do not mask secret-looking environment values (KOMODO_MCP_SHOW_SECRETS)")
    parser.add_argument("--no-confirm", dest="confirm", action="store_false", default=None,
                        help="destructive tools act without asking (automation) (KOMODO_MCP_CONFIRM=false)")
    parser.add_argument("--confirm-fallback", choices=["argument", "allow", "deny"],
                        help="without elicitation: require confirm=true, go ahead, or refuse (KOMODO_MCP_CONFIRM_FALLBACK)")
    parser.add_argument("--audit-log", dest="audit_log", help="stderr, a file path, or off (KOMODO_MCP_AUDIT_LOG)")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="(KOMODO_MCP_LOG_LEVEL)")
    parser.add_argument("--rate-limit", type=float, dest="rate_limit_per_minute",
                        help="Komodo requests per minute, 0 = off (KOMODO_MCP_RATE_LIMIT)")
    parser.add_argument("--exec-delay", type=float, default=2.0,
                        help="demo mode: seconds a simulated execution takes (default 2)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="komodo-mcp", description="MCP server for Komodo (komo.do).",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"komodo-mcp {__version__}")
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the MCP server (the default command)")
    _server_flags(serve)
    serve.add_argument("--transport", choices=["stdio", "http"], help="(KOMODO_MCP_TRANSPORT) default stdio")
    serve.add_argument("--host", help="HTTP bind address (KOMODO_MCP_HOST) default 127.0.0.1")
    serve.add_argument("--port", type=int, help="HTTP port (KOMODO_MCP_PORT) default 8000")
    serve.add_argument("--tls-cert", dest="tls_cert", help="PEM certificate for HTTPS (KOMODO_MCP_TLS_CERT)")
    serve.add_argument("--tls-key", dest="tls_key", help="PEM private key for HTTPS (KOMODO_MCP_TLS_KEY)")
    serve.add_argument("--stateless", action=argparse.BooleanOptionalAction, default=None,
                       help="HTTP without server-side sessions (default on; --no-stateless keeps sessions)")
    serve.add_argument("--allow-unauthenticated", action="store_true", default=None,
                       help="serve beyond loopback without authentication (KOMODO_MCP_ALLOW_UNAUTHENTICATED)")

    # `komodo-mcp --demo …` is `komodo-mcp serve --demo …`: show those options on the first help a user reads.
    parser.epilog = "Without a command, komodo-mcp serves; its options:\n\n" + serve.format_help()

    sim = commands.add_parser("simulator", help="run the Komodo simulator on its own")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=9120)
    sim.add_argument("--resources", type=int, default=0, help="generate this many extra deployments")
    sim.add_argument("--exec-delay", type=float, default=2.0, help="seconds a simulated execution takes")

    tools = commands.add_parser("tools", help="list the tools this configuration exposes")
    _server_flags(tools)
    tools.add_argument("--json", action="store_true", help="print the MCP tool definitions as JSON")

    config = commands.add_parser("config", help="configuration tools")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    check = config_commands.add_parser("check", help="validate the configuration and test the Komodo connection")
    _server_flags(check)

    call = commands.add_parser("call", help="call one tool and print its result (exit 1 on error)")
    _server_flags(call)
    call.add_argument("tool")
    call.add_argument("arguments", nargs="?", default="{}", help="JSON object of arguments")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv.insert(0, "serve")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "simulator":
        return _simulator(args)
    from pydantic import ValidationError

    # Start-up builds some 100,000 objects that live as long as the process (the SDK's and our models, the tools):
    # the collector would scan them again and again while they are made, ~10 % of a cold start. _serve freezes them.
    gc.disable()
    try:
        return _run(args)
    except (ValueError, ValidationError) as error:  # bad settings: say what, exit 2, no traceback
        parser.exit(2, f"komodo-mcp: error: {error}\n")
    finally:
        gc.enable()


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from .logs import configure

    configure(settings.log_level)
    if args.command == "tools":
        return _tools(settings, args.json)
    with _komodo_for(settings, args.exec_delay) as settings:
        if args.command == "config":
            return _config_check(settings)
        if args.command == "call":
            return _call(settings, args.tool, args.arguments)
        return _serve(settings)


def _settings(args: argparse.Namespace) -> Any:
    from .config import Settings, load_settings

    flags = {key: value for key, value in vars(args).items()
             if value is not None and key in Settings.model_fields}
    return load_settings(getattr(args, "config", None), **flags)


def _config_check(settings: Any) -> int:
    """Print the effective configuration (secrets masked) and whether Komodo accepts it: exit 0 or 1."""
    import anyio

    from .client import KomodoClient, KomodoError
    from .tools._registry import select

    tools = select(settings)
    # model_dump keeps SecretStr values, whose str() is masked.
    print(json.dumps({"settings": settings.model_dump(), "auth_mode": settings.auth_mode, "tools": len(tools)},
                     indent=2, default=str))

    async def probe(each: Any) -> str:
        client = KomodoClient(each)
        try:
            return (await client.read("GetVersion"))["version"]
        finally:
            await client.aclose()

    failed = 0
    for name in settings.instances or [""]:
        each = settings.instance_settings(name) if name else settings
        named = f" (instance {name})" if name else ""
        try:
            version = anyio.run(probe, each)
        except KomodoError as error:
            print(f"Komodo check failed{named}: {error.code}: {error.message}", file=sys.stderr)
            failed = 1
            continue
        print(f"Komodo {version} at {each.url}{named} accepts these credentials", file=sys.stderr)
    return failed


class _komodo_for:
    """Demo mode: two simulated Komodo instances, `production` (the default) and `staging`, in-process on free
    loopback ports, so several instances can be tried at once."""

    DEMO_INSTANCES = {"production": 0, "staging": 12}  # name → extra generated deployments, so the two differ

    def __init__(self, settings: Any, exec_delay: float) -> None:
        self.settings, self.exec_delay, self.threads = settings, exec_delay, []

    def __enter__(self) -> Any:
        if not self.settings.demo:
            return self.settings
        import logging

        from komodo_sim import ADMIN_KEY, ADMIN_SECRET, Simulator, SimulatorThread

        from .config import Instance

        instances = {}
        for name, extra in self.DEMO_INSTANCES.items():
            thread = SimulatorThread(Simulator(exec_delay=self.exec_delay, resources=extra))
            self.threads.append(thread)
            url = thread.start()
            logging.getLogger("komodo_mcp.demo").info("demo mode: Komodo simulator %r at %s", name, url)
            instances[name] = Instance(url=url, api_key=ADMIN_KEY, api_secret=ADMIN_SECRET)
        return self.settings.model_copy(update={"url": "", "api_key": None, "api_secret": None, "jwt": None,
                                                "username": None, "password": None, "instances": instances,
                                                "default_instance": "production"})

    def __exit__(self, *exc: object) -> None:
        for thread in self.threads:
            thread.stop()


def _serve(settings: Any) -> int:
    import logging

    from .client._client import tls_context

    tls_context()  # loads in a thread while the SDK is imported
    from .server import build_server
    from .telemetry import configure
    from .tools._registry import select

    configure()
    server = build_server(settings)
    if not select(settings):
        logging.getLogger("komodo_mcp.cli").warning(
            "no tools are enabled (toolsets %s%s%s): clients will see none; choose others with --toolsets",
            ",".join(settings.toolsets), " with --read-only" if settings.read_only else "",
            " with --disable-destructive" if settings.disable_destructive else "")
    gc.freeze()  # what start-up made lives on: later collections need not scan it
    gc.enable()
    if settings.transport == "http":
        from .transports.http import serve_http

        serve_http(server, settings, on_listening=lambda url: _announce_demo(settings, url))
    else:
        import anyio

        from .transports.stdio import serve_stdio

        _announce_demo(settings, "stdio")
        anyio.run(serve_stdio, server)
    return 0


def _announce_demo(settings: Any, where: str) -> None:
    """One plain line for a person trying the demo: where it listens and how to connect (logs are JSON)."""
    if not settings.demo:
        return
    if where == "stdio":
        line = ("komodo-mcp demo on stdio: a client launches it, e.g. `claude mcp add komodo -- komodo-mcp --demo`; "
                "add --transport http to serve a URL")
    else:
        line = (f"komodo-mcp demo listening at {where}: connect a client with `claude mcp add --transport http "
                f"komodo {where}` or `npx @modelcontextprotocol/inspector` (Streamable HTTP, that URL)")
    print(line, file=sys.stderr, flush=True)


def _tools(settings: Any, as_json: bool) -> int:
    from .tools._policy import categories_of
    from .tools._registry import select, to_tool, toolsets_of

    specs = select(settings)
    tools = [to_tool(spec, settings) for spec in specs]
    if as_json:
        print(json.dumps([{"name": t.name, "title": t.title, "description": t.description,
                           "kind": spec.kind, "toolsets": toolsets_of(spec, bool(settings.instances)),
                           "categories": sorted(categories_of(spec)),
                           "inputSchema": t.parameters, "annotations": t.annotations.model_dump(by_alias=True,
                           exclude_none=True)} for spec, t in zip(specs, tools)], indent=2))
        return 0
    print(f"{'TOOL':<40} {'KIND':<8} {'EFFECT':<14} TOOLSETS")
    for spec, tool in zip(specs, tools):
        a = tool.annotations
        effect = "read-only" if a.read_only_hint else ("destructive" if a.destructive_hint else "changes state")
        print(f"{tool.name:<40} {spec.kind:<8} {effect:<14} {','.join(toolsets_of(spec, bool(settings.instances)))}")
    print(f"{len(tools)} tools", file=sys.stderr)
    return 0


def _call(settings: Any, tool: str, arguments: str) -> int:
    import anyio

    try:
        parsed = json.loads(arguments)
    except ValueError as exc:
        print(json.dumps({"error": f"arguments are not JSON: {exc}", "code": "VALIDATION_ERROR", "status": 400}))
        return 2
    result = anyio.run(_call_in_process, settings, tool, parsed)
    print(result.content[0].text)  # the result's JSON: the envelope, success or error
    return 1 if result.is_error else 0


async def _call_in_process(settings: Any, tool: str, arguments: dict[str, Any]) -> Any:
    from mcp.client import Client

    from .server import build_server

    async with Client(build_server(settings, check=False)) as client:
        return await client.call_tool(tool, arguments)


def _simulator(args: argparse.Namespace) -> int:
    import uvicorn

    from komodo_sim import ADMIN_KEY, ADMIN_SECRET, VIEWER_KEY, VIEWER_SECRET, Simulator

    sim = Simulator(resources=args.resources, exec_delay=args.exec_delay,
                    public_url=f"http://{args.host}:{args.port}")
    print(f"Komodo simulator on http://{args.host}:{args.port}\n"
          f"  admin:  x-api-key {ADMIN_KEY}  x-api-secret {ADMIN_SECRET}\n"
          f"  viewer: x-api-key {VIEWER_KEY}  x-api-secret {VIEWER_SECRET}", file=sys.stderr)
    uvicorn.run(sim.app, host=args.host, port=args.port, log_level="warning")
    return 0
