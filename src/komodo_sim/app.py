"""The simulator's HTTP face: Komodo Core 2.3's routes, body forms, auth and error bodies, as a Starlette app."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections import defaultdict, deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .errors import BadParams, CoreError
from .executions import Executor
from .handlers import EXECUTE, READ, WRITE
from . import containers  # noqa: F401  (registers Core's container actions and InspectContainer)
from .seed import seed_demo, seed_generated
from .state import DAY_MS, Store, User, now_ms

# Deprecated request names Core still accepts through `#[serde(alias)]`.
ALIASES = {"ListDockerContainers": "ListContainers", "ListAllDockerContainers": "ListAllContainers",
           "InspectDockerContainer": "InspectContainer", "GetDockerContainersSummary": "GetContainersSummary"}
MODULES = {"read": READ, "write": WRITE, "execute": EXECUTE}


class Simulator:
    """One simulated Komodo Core: its store, its executor and its ASGI app (`.app`)."""

    def __init__(self, *, resources: int = 0, exec_delay: float = 1.0, auth_max_attempts: int = 5,
                 auth_window_s: float = 15.0, jwt_ttl_ms: int = DAY_MS,
                 public_url: str = "http://127.0.0.1:9120", hold_executions: bool = False) -> None:
        self.store = Store()
        seed_demo(self.store)
        if resources:
            seed_generated(self.store, resources)
        self.executor = Executor(self.store, exec_delay)
        # Tests open this gate to let executions go on; while it is closed they stay InProgress (see Gate).
        self.gate = self.executor.gate
        if hold_executions:
            self.gate.close()
        self.public_url = public_url
        self.auth_max_attempts = auth_max_attempts
        self.auth_window_s = auth_window_s
        self.jwt_ttl_ms = jwt_ttl_ms
        self._jwt_secret = secrets.token_hex(32)
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self.requests_served = 0
        # Fault injection for resilience tests: answers a reverse proxy in front of Core would give.
        self.faults: deque[int] = deque()
        self.latency_s = 0.0
        self.app = Starlette(routes=[
            Route("/version", self.version, methods=["GET"]),
            Route("/user", self.current_user, methods=["GET"]),
            Route("/auth/login", self.login, methods=["POST"]),
            Route("/auth/login/{variant}", self.login, methods=["POST"]),
            Route("/terminal/execute", self.terminal, methods=["POST"]),
            *(Route(f"/{module}", self.api, methods=["POST"]) for module in MODULES),
            *(Route(f"/{module}/{{variant}}", self.api, methods=["POST"]) for module in MODULES),
        ], lifespan=self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        await self.executor.aclose()

    def inject_faults(self, *statuses: int) -> None:
        """The next API requests answer these statuses (e.g. 503, 502) before Core sees them; 200 answers a
        well-formed JSON body of the wrong shape, as a misrouted proxy might."""
        self.faults.extend(statuses)

    def rotate_jwt_secret(self) -> None:
        """Invalidate every issued JWT, as a Core restart with a new KOMODO_JWT_SECRET does."""
        self._jwt_secret = secrets.token_hex(32)

    # -- auth ------------------------------------------------------------------------------------------------------

    def issue_jwt(self, user: User) -> str:
        now = now_ms()
        return jwt.encode({"sub": user.id, "iat": now, "exp": now + self.jwt_ttl_ms}, self._jwt_secret, "HS256")

    def _fail(self, ip: str) -> CoreError:
        failures = self._failures[ip]
        failures.append(time.monotonic())
        remaining = max(0, self.auth_max_attempts - len(failures))
        return CoreError(401, f"Invalid user credentials | You have {remaining} attempts remaining")

    def _blocked(self, ip: str) -> None:
        failures, now = self._failures[ip], time.monotonic()
        while failures and now - failures[0] > self.auth_window_s:
            failures.popleft()
        if len(failures) >= self.auth_max_attempts:
            wait = int(self.auth_window_s - (now - failures[0])) + 1
            raise CoreError(429, f"Too many attempts | Try again in {wait}s")

    def authenticate(self, request: Request, require_enabled: bool = True) -> User:
        ip = request.client.host if request.client else "unknown"
        self._blocked(ip)
        authorization = request.headers.get("authorization")
        key, secret = request.headers.get("x-api-key"), request.headers.get("x-api-secret")
        user: User | None
        if authorization:
            token = authorization.removeprefix("Bearer ").strip()
            try:
                claims = jwt.decode(token, self._jwt_secret, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False})
            except jwt.PyJWTError:
                raise CoreError(500, "Invalid user credentials", ["failed to decode jwt"]) from None
            if claims.get("exp", 0) < now_ms():  # Core's claims are in milliseconds
                raise CoreError(500, "Invalid user credentials", ["jwt has expired"])
            user = self.store.users.get(claims.get("sub", ""))
            if user is None:
                raise self._fail(ip)
        elif key:
            if not secret:
                raise CoreError(500, "Request headers have X-API-KEY but missing X-API-SECRET")
            stored = self.store.api_keys.get(key)
            if stored is None or stored[0] != secret:
                raise self._fail(ip)
            user = self.store.users[stored[1]]
        else:
            raise CoreError(401, "Invalid client credentials")
        if require_enabled and not user.enabled:
            raise self._fail(ip)
        return user

    # -- routes ----------------------------------------------------------------------------------------------------

    async def version(self, request: Request) -> Response:
        return PlainTextResponse(self.store.version)

    async def terminal(self, request: Request) -> Response:
        from .terminal import execute

        return await execute(self, request)

    async def current_user(self, request: Request) -> Response:
        try:
            user = self.authenticate(request, require_enabled=False)
        except CoreError as error:
            return JSONResponse(error.body(), error.status)
        return JSONResponse({"_id": {"$oid": user.id}, "username": user.username, "enabled": user.enabled,
                             "admin": user.admin, "super_admin": user.admin, "create_server_permissions": user.admin,
                             "create_build_permissions": user.admin, "last_update_view": 0, "recents": {},
                             "all": {}, "updated_at": 0})

    async def login(self, request: Request) -> Response:
        try:
            variant, params = await self._parse(request, {"LoginLocalUser", "GetLoginOptions"})
            if variant == "GetLoginOptions":
                return JSONResponse({"local": True, "oidc": False, "github": False, "google": False,
                                     "registration_disabled": True, "oidc_auto_redirect": False})
            ip = request.client.host if request.client else "unknown"
            self._blocked(ip)
            user = next((u for u in self.store.users.values() if u.username == params.get("username")), None)
            if user is None or not user.password or user.password != params.get("password"):
                raise self._fail(ip)
            return JSONResponse({"type": "Jwt", "data": {"jwt": self.issue_jwt(user)}})
        except CoreError as error:
            return JSONResponse(error.body(), error.status)

    async def api(self, request: Request) -> Response:
        self.requests_served += 1
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if self.faults:
            status = self.faults.popleft()
            if status == 200:
                return JSONResponse({"unexpected": "shape"})
            return PlainTextResponse(f"{status} injected fault", status, headers={"retry-after": "0"} if status in (
                429, 503) else None)
        module = request.url.path.strip("/").split("/")[0]
        table = MODULES[module]
        variant_form = "variant" in request.path_params
        try:
            user = self.authenticate(request)
            variant, params = await self._parse(request, table)
            return JSONResponse(table[variant](self, user, params))
        except BadParams as error:
            if variant_form:  # `/read/{Variant}` deserialises with `?`, so bad params surface as 500
                return JSONResponse({"error": error.detail, "trace": []}, 500)
            return JSONResponse(error.body(), 422)
        except CoreError as error:
            return JSONResponse(error.body(), error.status)

    async def _parse(self, request: Request, table: Any) -> tuple[str, dict[str, Any]]:
        """Both body forms: `{"type", "params"}` on the module route, bare params on `/{module}/{Variant}`."""
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise CoreError(415, "Expected request with `Content-Type: application/json`")
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise CoreError(400, f"Failed to parse the request body as JSON: {exc}") from None
        variant = request.path_params.get("variant")
        if variant is not None:
            variant = ALIASES.get(variant, variant)
            if variant not in table:
                raise CoreError(500, f"unknown variant `{variant}`, expected one of the {len(table)} requests")
            if not isinstance(body, dict):
                raise BadParams(f"invalid type: expected struct {variant}")
            return variant, body
        if not isinstance(body, dict) or "type" not in body:
            raise BadParams("missing field `type`")
        variant = ALIASES.get(body["type"], body["type"])
        if variant not in table:
            raise BadParams(f"unknown variant `{body['type']}`, expected one of the {len(table)} requests")
        params = body.get("params")
        if not isinstance(params, dict):
            raise BadParams("missing field `params`" if params is None else f"invalid type: expected struct {variant}")
        return variant, params


class AsgiThread:
    """Serves an ASGI app with uvicorn on a loopback port from a background thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        # log_config=None: leave the host process's logging alone (stdout may be a JSON-RPC stream).
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, log_config=None,
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, name="asgi-server", daemon=True)
        self.url = ""

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.005)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> AsgiThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SimulatorThread(AsgiThread):
    """A Simulator served on a loopback port (demo mode, tests, benchmarks)."""

    def __init__(self, simulator: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(simulator.app, host, port)
        self.simulator = simulator

    def start(self, timeout: float = 10.0) -> str:
        url = super().start(timeout)
        self.simulator.public_url = url
        return url
