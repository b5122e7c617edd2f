"""OpenTelemetry: a span per tool call with the Komodo calls inside it, metrics, and the Prometheus endpoint."""

from __future__ import annotations

from typing import Iterator

import httpx2
import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader, MetricsData
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from komodo_sim import ADMIN_KEY, ADMIN_SECRET

from .conftest import call, mcp_client, settings_for
from .processes import http_server
from .wire import MODERN, rpc

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def telemetry() -> Iterator[tuple[InMemorySpanExporter, InMemoryMetricReader]]:
    """Process-wide providers (OpenTelemetry allows setting them once), recording in memory."""
    spans, reader = InMemorySpanExporter(), InMemoryMetricReader()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    yield spans, reader


async def test_a_tool_call_span_holds_its_komodo_calls(shared_sim, telemetry):
    spans, _ = telemetry
    spans.clear()
    async with mcp_client(settings_for(shared_sim.url)) as client:
        await call(client, "komodo_read_GetDeployment", {"id": "api-v2"})
    finished = spans.get_finished_spans()
    tool = next(s for s in finished if s.name == "tools/call komodo_read_GetDeployment")
    komodo = [s for s in finished if s.name.startswith("komodo read ")]
    assert {s.name for s in komodo} >= {"komodo read GetDeployment", "komodo read GetDeploymentStats",
                                        "komodo read ListUpdates"}
    assert all(s.parent is not None and s.context.trace_id == tool.context.trace_id for s in komodo)
    assert all(s.attributes["http.response.status_code"] == 200 for s in komodo)


def metric_points(reader: InMemoryMetricReader) -> dict[tuple[str, tuple], float]:
    """Each counter's value and each histogram's count, by metric name and sorted attributes."""
    points = {}
    for resource_metrics in (reader.get_metrics_data() or MetricsData([])).resource_metrics:
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    key = (metric.name, tuple(sorted(point.attributes.items())))
                    points[key] = point.count if isinstance(point, HistogramDataPoint) else point.value
    return points


async def test_metrics_count_calls_by_code_and_komodo_round_trips(shared_sim, telemetry):
    _, reader = telemetry
    before = metric_points(reader)  # the meter provider lives for the module: count what this test adds
    async with mcp_client(settings_for(shared_sim.url)) as client:
        await call(client, "komodo_read_GetServer", {"id": "staging-web"})
        await call(client, "komodo_read_GetServer", {"id": "nope"})
    after = metric_points(reader)
    added = {key: value - before.get(key, 0) for key, value in after.items() if value != before.get(key, 0)}
    assert added[("komodo_mcp.tool.calls", (("code", "OK"), ("tool", "komodo_read_GetServer")))] == 1
    assert added[("komodo_mcp.tool.calls", (("code", "NOT_FOUND"), ("tool", "komodo_read_GetServer")))] == 1
    assert added[("komodo_mcp.tool.duration", (("tool", "komodo_read_GetServer"),))] == 2
    assert any(name == "komodo_mcp.komodo.requests" for name, _ in added)


def test_prometheus_endpoint(shared_sim):
    env = {"KOMODO_URL": shared_sim.url, "KOMODO_API_KEY": ADMIN_KEY, "KOMODO_API_SECRET": ADMIN_SECRET,
           "KOMODO_MCP_PROMETHEUS": "1"}
    with http_server(env=env) as url:
        rpc(f"{url}/mcp", "tools/call", {"name": "komodo_read_GetServer", "arguments": {"id": "staging-web"}}, MODERN)
        exposition = httpx2.get(f"{url}/metrics").text
    calls = [line for line in exposition.splitlines() if line.startswith("komodo_mcp_tool_calls_total{")]
    assert any('code="OK"' in line and 'tool="komodo_read_GetServer"' in line and line.endswith(" 1.0")
               for line in calls), calls
    assert "komodo_mcp_komodo_requests_total" in exposition
