"""Contract: for every Komodo call the server makes, the simulator's answer validates against the `komodo-api`
package's types (generated from Komodo's Rust source), and so do the request params we send."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import komodo_api.types as komodo_types
import pytest
from pydantic import TypeAdapter

from komodo_sim import ADMIN_KEY, ADMIN_SECRET

HEADERS = {"x-api-key": ADMIN_KEY, "x-api-secret": ADMIN_SECRET}
KINDS = ("Server", "Deployment", "Stack", "Build", "Repo", "Procedure", "Action", "ResourceSync", "Builder", "Alerter")
PARAM = {"Server": "server", "Deployment": "deployment", "Stack": "stack", "Build": "build", "Repo": "repo",
         "Procedure": "procedure", "Action": "action", "ResourceSync": "sync", "Builder": "builder",
         "Alerter": "alerter"}
SAMPLE = {"Server": "production-api", "Deployment": "api-v2", "Stack": "monitoring-stack", "Build": "api-build",
          "Repo": "myapp-backend", "Procedure": "daily-backup", "Action": "backup-database",
          "ResourceSync": "infra-sync", "Builder": "local-builder", "Alerter": "slack-ops"}

READS: list[tuple[str, dict[str, Any]]] = [
    ("GetVersion", {}), ("GetCoreInfo", {}), ("ListTags", {}), ("ListVariables", {}),
    ("ListSchedules", {}), ("ExportAllResourcesToToml", {"include_resources": True, "include_variables": True}),
    ("GetSystemStats", {"server": "production-api"}), ("GetSystemInformation", {"server": "production-api"}),
    ("GetServerState", {"server": "edge-cache-01"}),
    ("GetHistoricalServerStats", {"server": "production-api", "granularity": "5-min", "page": 0}),
    ("ListContainers", {"server": "production-api"}),
    ("InspectContainer", {"server": "production-api", "container": "api-v2"}),
    ("GetContainerLog", {"server": "production-api", "container": "api-v2", "tail": 10, "timestamps": False}),
    ("GetDeploymentContainer", {"deployment": "api-v2"}), ("GetDeploymentStats", {"deployment": "api-v2"}),
    ("GetDeploymentLog", {"deployment": "api-v2", "tail": 20, "timestamps": False}),
    ("SearchDeploymentLog", {"deployment": "api-v2", "terms": ["error"], "combinator": "Or", "invert": False,
                             "timestamps": False}),
    ("ListStackServices", {"stack": "monitoring-stack"}),
    ("GetStackLog", {"stack": "monitoring-stack", "services": [], "tail": 20, "timestamps": False}),
    ("SearchStackLog", {"stack": "monitoring-stack", "services": [], "terms": ["error"], "combinator": "Or",
                        "invert": False, "timestamps": False}),
    ("ListUpdates", {"query": {"target.type": "Build"}, "page": 0}),
    ("ListAlerts", {"query": {"resolved": False}, "page": 0}),
]
for _kind in KINDS:
    READS += [(f"List{_kind}s", {"query": {}, "limit": 0}), (f"ListFull{_kind}s", {"query": {}, "limit": 0}),
              (f"Get{_kind}", {PARAM[_kind]: SAMPLE[_kind]}), (f"Get{_kind}sSummary", {})]
    if _kind not in ("Builder", "Alerter"):
        READS.append((f"Get{_kind}ActionState", {PARAM[_kind]: SAMPLE[_kind]}))


def _type(name: str) -> Any:
    return getattr(komodo_types, name)


def post(url: str, module: str, operation: str, params: dict[str, Any]) -> Any:
    response = httpx2.post(f"{url}/{module}", json={"type": operation, "params": params}, headers=HEADERS)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("operation", "params"), READS, ids=[op for op, _ in READS])
def test_read_answer_validates_against_komodo_api(shared_sim, operation, params):
    _type(operation).model_validate(params)  # what we send is a valid request
    TypeAdapter(_type(f"{operation}Response")).validate_python(post(shared_sim.url, "read", operation, params))


def test_update_and_alert_documents_validate(shared_sim):
    updates = post(shared_sim.url, "read", "ListUpdates", {"page": 0})["updates"]
    alert_id = post(shared_sim.url, "read", "ListAlerts", {"page": 0})["alerts"][0]["_id"]["$oid"]
    update = post(shared_sim.url, "read", "GetUpdate", {"id": updates[0]["id"]})
    komodo_types.Update.model_validate(update)
    komodo_types.Alert.model_validate(post(shared_sim.url, "read", "GetAlert", {"id": alert_id}))


EXECUTES = [("Deploy", {"deployment": "api-v2"}), ("StartDeployment", {"deployment": "api-v1"}),
            ("StopDeployment", {"deployment": "redis-cache"}), ("RestartDeployment", {"deployment": "web-frontend"}),
            ("DestroyDeployment", {"deployment": "canary-api"}), ("DeployStack", {"stack": "logging-stack", "services": []}),
            ("RestartStack", {"stack": "monitoring-stack", "services": []}),
            ("RunBuild", {"build": "api-build"}), ("PullRepo", {"repo": "myapp-backend"}),
            ("CloneRepo", {"repo": "myapp-frontend"}), ("RunProcedure", {"procedure": "nightly-cleanup"}),
            ("RunAction", {"action": "notify-slack", "args": {"channel": "ops"}}),
            ("StopAllContainers", {"server": "staging-web"}), ("PruneImages", {"server": "build-runner"}),
            *((operation, {"server": "production-api", "container": "redis-cache"}) for operation in (
                "StartContainer", "RestartContainer", "PauseContainer", "UnpauseContainer", "StopContainer")),
            ("PauseDeployment", {"deployment": "api-v2"}), ("UnpauseDeployment", {"deployment": "api-v2"}),
            ("PauseStack", {"stack": "monitoring-stack", "services": []}),
            ("UnpauseStack", {"stack": "monitoring-stack", "services": []})]


@pytest.mark.parametrize(("operation", "params"), EXECUTES, ids=[op for op, _ in EXECUTES])
def test_execute_answers_are_updates_in_progress_then_complete(sim, operation, params):
    _type(operation).model_validate(params)
    started = komodo_types.Update.model_validate(post(sim.url, "execute", operation, params))
    assert started.status == komodo_types.UpdateStatus.INPROGRESS
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        done = komodo_types.Update.model_validate(post(sim.url, "read", "GetUpdate", {"id": started.id.oid}))
        if done.status == komodo_types.UpdateStatus.COMPLETE:
            break
        time.sleep(0.02)
    assert done.status == komodo_types.UpdateStatus.COMPLETE and done.logs and done.end_ts


WRITES = [("CreateDeployment", {"name": "contract-dep", "config": {"server_id": "staging-web",
                                "image": {"type": "Image", "params": {"image": "nginx:1.27"}}}}, "Deployment"),
          ("UpdateDeployment", {"id": "api-v1", "config": {"restart": "always"}}, "Deployment"),
          ("CreateVariable", {"name": "CONTRACT_VAR", "value": "x", "description": "", "is_secret": False}, "Variable"),
          ("UpdateResourceMeta", {"target": {"type": "Stack", "id": "db-stack"}, "tags": ["database"]}, None),
          ("DeleteDeployment", {"id": "canary-api"}, "Deployment")]


@pytest.mark.parametrize(("operation", "params", "answer"), WRITES, ids=[op for op, _, _ in WRITES])
def test_write_answers_validate(sim, operation, params, answer):
    # Requests are not checked here: komodo-api types Create/Update configs as whole configs, where Core takes
    # partial ones (`_Partial<X>Config`), so a valid partial update would be rejected by the generated type.
    body = post(sim.url, "write", operation, params)
    if answer:
        TypeAdapter(_type(answer)).validate_python(body)
    else:
        assert body == {}
