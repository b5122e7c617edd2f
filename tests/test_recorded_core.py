"""The outside oracle, part (a): for every READ request recorded from a real Komodo Core 2.3.2, the simulator's
answer to the same request on its counterpart resource has the same shape: keys, value types, enum spellings, error
status codes and texts. A key one side sends and the other does not fails, unless listed in OPTIONAL_KEYS with the
Core source line that makes it optional."""

from __future__ import annotations

from typing import Any

import pytest

from komodo_sim.app import Simulator
from komodo_sim.errors import BadParams, CoreError
from komodo_sim.handlers import READ

from .recorded_core import COUNTERPART, PARAM_KIND, records, recorded_ids

# (request, key) pairs Core leaves out when empty (`skip_serializing_if`), so either side may lack them.
OPTIONAL_KEYS: dict[tuple[str, str], str] = {
    **{(request, key): "entities/docker/container.rs ContainerListItem: skip_serializing_if empty/None"
       for request in ("ListContainers", "GetDeploymentContainer", "ListStackServices")
       for key in ("ports", "volumes", "networks", "stats", "network_mode", "status")},
    ("ListVariables", "description"): "entities/variable.rs Variable.description: skip_serializing_if empty",
    ("ListUpdates", "version"): "entities/update.rs UpdateListItem.version: skip_serializing_if Version::is_none",
    ("ListUpdates", "other_data"): "entities/update.rs UpdateListItem.other_data: skip_serializing_if empty",
}
# Keys whose values are enum variants: both sides must spell them alike (capitalised or not).
ENUM_KEYS = {"state", "level", "status", "type", "operation", "builder_type", "endpoint_type", "color",
             "schedule_format", "arguments_format"}
# Requests the exec-fidelity work owns (Updates are written by executions), compared there.
NOT_HERE = {"GetUpdate"}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def shape_diff(request: str, core: Any, sim: Any, path: str = "$") -> list[str]:
    """Where the simulator's value differs in shape from Core's; null matches any type (Core's Options)."""
    if core is None or sim is None:
        return []
    if isinstance(core, dict) and isinstance(sim, dict):
        problems = [f"{path}.{key}: {'Core' if key in core else 'simulator'} only"
                    for key in sorted(set(core) ^ set(sim)) if (request, key) not in OPTIONAL_KEYS]
        if "type" in core and core.get("type") != sim.get("type"):
            return problems  # two variants of one tagged enum: their data differs by design
        for key in sorted(set(core) & set(sim)):
            problems += shape_diff(request, core[key], sim[key], f"{path}.{key}")
        return problems
    if isinstance(core, list) and isinstance(sim, list):
        problems = []
        for element in sim:
            candidates = [shape_diff(request, recorded, element, f"{path}[]") for recorded in core]
            if candidates and not any(not c for c in candidates):
                problems += min(candidates, key=len)
        return problems
    if _number(core) and _number(sim):
        return []
    if type(core) is not type(sim):
        return [f"{path}: Core {type(core).__name__} {core!r:.40} / simulator {type(sim).__name__} {sim!r:.40}"]
    if isinstance(core, str) and path.rsplit(".", 1)[-1] in ENUM_KEYS and core[:1].isupper() != sim[:1].isupper():
        return [f"{path}: Core spells {core!r}, the simulator {sim!r}"]
    return []


@pytest.fixture(scope="module")
def simulator() -> Simulator:
    return Simulator(exec_delay=0.01)


def _translate(simulator: Simulator, recording: str, params: dict[str, Any]) -> dict[str, Any]:
    """The recorded request, aimed at the counterpart of each resource it names (by name or by id)."""
    names, ids = COUNTERPART[recording], recorded_ids(recording)
    admin = next(user for user in simulator.store.users.values() if user.admin)

    def sim_id(recorded_id: str) -> str:
        kind, name = ids[recorded_id]
        return simulator.store.resolve(kind, names[kind][name]).id

    def translate(key: str, value: Any) -> Any:
        if key == "user_id":
            return admin.id
        if isinstance(value, str) and value in ids:
            return sim_id(value)
        if isinstance(value, str) and key in PARAM_KIND:
            return names[PARAM_KIND[key]].get(value, value)
        if isinstance(value, dict):
            return {k: translate(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [translate(key, v) for v in value]
        return value

    return {key: translate(key, value) for key, value in params.items()}


def _answer(simulator: Simulator, request: str, params: dict[str, Any]) -> tuple[int, Any]:
    admin = next(user for user in simulator.store.users.values() if user.admin)
    try:
        return 200, READ[request](simulator, admin, params)
    except BadParams as error:
        return 422, error.body()
    except CoreError as error:
        return error.status, error.body()


def _recorded_reads() -> list[Any]:
    return [pytest.param(recording, number, record, id=f"{recording}-{number}-{record['request']['type']}")
            for recording in COUNTERPART for number, record in enumerate(records(recording))
            if record["path"] == "/read" and record["request"]["type"] not in NOT_HERE]


def _renamed(text: str, recorded: dict[str, Any], sent: dict[str, Any]) -> str:
    """Core's error text with the names of the recorded request replaced by those sent to the simulator."""
    for key, value in recorded.items():
        if isinstance(value, str) and value != sent[key]:
            text = text.replace(value, sent[key])
    return text


@pytest.mark.parametrize(("recording", "number", "record"), _recorded_reads())
def test_the_simulator_answers_each_recorded_read_in_cores_shape(simulator, recording, number, record):
    request = record["request"]["type"]
    params = _translate(simulator, recording, record["request"]["params"])
    status, body = _answer(simulator, request, params)
    assert status == record["status"], body
    if status != 200:
        assert body["error"] == _renamed(record["response"]["error"], record["request"]["params"], params)
        assert isinstance(body["trace"], list) and bool(body["trace"]) == bool(record["response"]["trace"])
        return
    assert shape_diff(request, record["response"], body) == []


def test_every_recorded_read_request_is_compared():
    """The recordings hold no READ request the simulator does not serve."""
    recorded = {record["request"]["type"] for recording in COUNTERPART for record in records(recording)
                if record["path"] == "/read"}
    assert recorded - set(READ) == set()


def test_the_shape_check_can_fail():
    """A key Core sends that the simulator lacks, a changed type and a respelled enum all count."""
    assert shape_diff("GetServer", {"a": 1, "b": "x"}, {"a": 1}) == ["$.b: Core only"]
    assert shape_diff("GetServer", {"a": [{"n": 1}]}, {"a": [{"n": "1"}]}) == ["$.a[].n: Core int 1 / simulator str '1'"]
    assert shape_diff("ListStackServices", [{"state": "Running"}], [{"state": "running"}]) == [
        "$[].state: Core spells 'Running', the simulator 'running'"]
