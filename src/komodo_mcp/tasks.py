"""MCP tasks over Komodo jobs: a task's id IS the Komodo job (Update) id, so no task state lives here and a restart
or another replica serves the same tasks.

Two generations:
- 2025-11-25, the experimental core capability: a `tools/call` with `params.task` answers `CreateTaskResult`;
  `tasks/get`, `tasks/result` (blocks until done), `tasks/list`, `tasks/cancel`.
- 2026-07-28, the `io.modelcontextprotocol/tasks` extension (SEP-2663): for a client that advertises it, the server
  decides per call — execute tools run as tasks; `tasks/get` (result or error inlined), `tasks/update`,
  `tasks/cancel`.
The SDK validates legacy `tools/call` results as plain CallToolResults, so the task answer is made by a middleware,
which owns its result, after the execute tool has started the job.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, RequestParams

from .client import KomodoError
from .mapping.common import iso
from .mapping.envelope import ok
from .mapping.status import job_status
from .tools._context import App, app_for, app_for_job, job_answer

EXTENSION_ID = "io.modelcontextprotocol/tasks"
LEGACY = "2025-11-25"
MODERN = "2026-07-28"
POLL_INTERVAL_MS = 1_000  # Komodo's own clients poll an Update every second
INVALID_PARAMS = -32602
CANCEL_TOOL = "komodo_execute_CancelJob"
# Execute tools that start a Komodo job; WaitForJob and CancelJob act on one.
NOT_TASKS = {"komodo_execute_WaitForJob", CANCEL_TOOL}
TASK_STATUS = {"running": "working", "starting": "working", "pending": "working", "success": "completed",
               "failed": "failed", "cancelled": "cancelled"}


def is_task_tool(name: str) -> bool:
    return name.startswith("komodo_execute_") and name not in NOT_TASKS


def _wants_extension(params: dict[str, Any]) -> bool:
    capabilities = (params.get("_meta") or {}).get("io.modelcontextprotocol/clientCapabilities") or {}
    return EXTENSION_ID in (capabilities.get("extensions") or {})


def task_fields(update: dict[str, Any], job_id: str, legacy: bool) -> dict[str, Any]:
    """A task as both generations describe it, from the job's Update."""
    from .mapping.jobs import job_error  # the mappers and their models load on first use, not to list the tools

    last = update.get("end_ts") or max([log.get("end_ts") or 0 for log in update.get("logs", [])] + [update["start_ts"]])
    status = TASK_STATUS[job_status(update)]
    error = job_error(update)
    message = f"{update['operation']}: {job_status(update)}" + (f" ({error.message})" if error else "")
    fields = {"taskId": job_id, "status": status, "createdAt": iso(update["start_ts"]), "lastUpdatedAt": iso(last),
              "statusMessage": message}
    # Komodo keeps Updates for good: no expiry.
    return fields | ({"ttl": None, "pollInterval": POLL_INTERVAL_MS} if legacy else
                     {"ttlMs": None, "pollIntervalMs": POLL_INTERVAL_MS})


async def final_result(ctx: ServerRequestContext[App, Any], task_id: str) -> dict[str, Any]:
    """What the task's request finally answers: the execute tool's own result, as if it had waited for the end
    (so it matches the tool's outputSchema); a failed job is in its `status`, `success` and `error`."""
    from .tools._execution import answer_for_job

    app, job_id = app_for_job(ctx, task_id)
    body = job_answer(app, ok(await answer_for_job(app, job_id)).model_dump(mode="json"))
    return {"content": [{"type": "text", "text": json.dumps(body, indent=2)}], "structuredContent": body,
            "isError": False}


class TaskMiddleware:
    """Runs execute calls as tasks for clients that ask, and advertises task support on the legacy handshake."""

    async def __call__(self, ctx: ServerRequestContext[App, Any], call_next: CallNext) -> HandlerResult:
        params = dict(ctx.params or {})
        result = await call_next(ctx)
        legacy = ctx.protocol_version == LEGACY
        if ctx.method == "initialize" and isinstance(result, dict) and result.get("protocolVersion") == LEGACY:
            result["capabilities"]["tasks"] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
        elif ctx.method == "tools/list" and legacy and isinstance(result, dict):
            for tool in result.get("tools", []):
                if is_task_tool(tool["name"]):
                    tool["execution"] = {"taskSupport": "optional"}
        elif ctx.method == "tools/call" and is_task_tool(params.get("name", "")) and isinstance(result, dict):
            asked = "task" in params if legacy else ctx.protocol_version == MODERN and _wants_extension(params)
            job_id = ((result.get("structuredContent") or {}).get("data") or {}).get("job_id")
            if asked and job_id and not result.get("isError"):  # nothing started: the plain error answers
                app, komodo_id = app_for_job(ctx, job_id)
                update = await app.komodo.read("GetUpdate", id=komodo_id)
                task = task_fields(update, job_id, legacy)
                return {"task": task} if legacy else {**task, "resultType": "task"}
        return result


class TaskIdParams(RequestParams):
    taskId: str


class UpdateTaskParams(TaskIdParams):
    inputResponses: dict[str, Any] | None = None


class CursorParams(RequestParams):
    cursor: str | None = None


class KomodoTasks(Extension):
    """The `tasks/*` methods, answered from Komodo's Updates."""

    identifier = EXTENSION_ID
    server: Any = None  # the KomodoMCP serving these methods (set by build_server): cancel calls its CancelJob

    def methods(self) -> list[MethodBinding]:
        return [
            MethodBinding("tasks/get", TaskIdParams, self.get),
            MethodBinding("tasks/cancel", TaskIdParams, self.cancel),
            MethodBinding("tasks/result", TaskIdParams, self.result, protocol_versions=frozenset({LEGACY})),
            MethodBinding("tasks/list", CursorParams, self.list, protocol_versions=frozenset({LEGACY})),
            MethodBinding("tasks/update", UpdateTaskParams, self.update, protocol_versions=frozenset({MODERN})),
        ]

    async def _update(self, ctx: ServerRequestContext[App, Any], task_id: str) -> dict[str, Any]:
        try:
            app, job_id = app_for_job(ctx, task_id)
            return await app.komodo.read("GetUpdate", id=job_id)
        except KomodoError as error:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown task {task_id}: {error.message}") from None

    async def get(self, ctx: ServerRequestContext[App, Any], params: TaskIdParams) -> dict[str, Any]:
        legacy = ctx.protocol_version != MODERN
        update = await self._update(ctx, params.taskId)
        task = task_fields(update, params.taskId, legacy)
        if legacy:
            return task
        if task["status"] == "completed":
            task["result"] = {**await final_result(ctx, params.taskId), "resultType": "complete"}
        elif task["status"] == "failed":
            result = await final_result(ctx, params.taskId)
            error = result["structuredContent"]["data"].get("error") or {}
            task["error"] = {"code": -32000, "message": error.get("message", "the job failed"),
                             "data": result["structuredContent"]}
        return {**task, "resultType": "complete"}

    async def result(self, ctx: ServerRequestContext[App, Any], params: TaskIdParams) -> dict[str, Any]:
        """2025-11-25: block until the job ends, then answer what the call finally produced."""
        while (await self._update(ctx, params.taskId)).get("status") != "Complete":
            await anyio.sleep(POLL_INTERVAL_MS / 1000)
        result = await final_result(ctx, params.taskId)
        return {**result, "_meta": {"io.modelcontextprotocol/related-task": {"taskId": params.taskId}}}

    async def list(self, ctx: ServerRequestContext[App, Any], params: CursorParams) -> dict[str, Any]:
        """2025-11-25: the jobs these credentials can see, newest first, one Komodo page per cursor."""
        page = int(params.cursor) if params.cursor and params.cursor.isdigit() else 0
        app = app_for(ctx)
        answer = await app.komodo.read("ListUpdates", query={}, page=page)
        tasks = [task_fields({**u, "logs": []}, job_answer(app, {"job_id": u["id"]})["job_id"], legacy=True)
                 for u in answer["updates"]]
        listed: dict[str, Any] = {"tasks": tasks}
        if answer.get("next_page") is not None:
            listed["nextCursor"] = str(answer["next_page"])
        return listed

    async def cancel(self, ctx: ServerRequestContext[App, Any], params: TaskIdParams) -> dict[str, Any]:
        """Through the CancelJob tool, so the same gate applies: the tool must be enabled (a policy denying
        automation forbids it), the user confirms, the call is audited, and Komodo checks the caller's own
        permission. A refusal carries the tool call's error envelope as its data."""
        legacy = ctx.protocol_version != MODERN
        context = Context(request_context=ctx, mcp_server=self.server)
        result = await self.server.call_tool(CANCEL_TOOL, {"job_id": params.taskId}, context)
        if not isinstance(result, CallToolResult):  # 2026-07-28 asks with an input-required round: not here
            raise MCPError(code=INVALID_PARAMS, message=f"Cancelling needs the user's confirmation: call "
                                                        f"{CANCEL_TOOL} with job_id {params.taskId}")
        if result.is_error:
            body = json.loads(result.content[0].text)
            raise MCPError(code=INVALID_PARAMS, message=body["error"], data=body)
        with anyio.move_on_after(3):  # Komodo stops the job at its next step boundary
            while (update := await self._update(ctx, params.taskId)).get("status") != "Complete":
                await anyio.sleep(0.1)
        return task_fields(update, params.taskId, legacy=True) if legacy else {"resultType": "complete"}

    async def update(self, ctx: ServerRequestContext[App, Any], params: UpdateTaskParams) -> dict[str, Any]:
        raise MCPError(code=INVALID_PARAMS, message="Komodo jobs never ask for input; nothing to update")
