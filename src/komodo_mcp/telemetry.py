"""OpenTelemetry: a span per Komodo call (inside the SDK's span per tool call) and metrics, through
`opentelemetry-api` — no-ops until a provider is configured. `configure()` sets providers up from the standard
`OTEL_*` variables when the `otel` extra is installed; KOMODO_MCP_PROMETHEUS also serves metrics on /metrics."""

from __future__ import annotations

import logging
import os
from typing import Any

from opentelemetry import metrics, trace

logger = logging.getLogger("komodo_mcp.telemetry")
_tracer = trace.get_tracer("komodo-mcp")
_meter = metrics.get_meter("komodo-mcp")

TOOL_CALLS = _meter.create_counter("komodo_mcp.tool.calls", description="Tool calls, by tool and result code")
TOOL_DURATION = _meter.create_histogram("komodo_mcp.tool.duration", unit="s", description="Tool call latency")
KOMODO_REQUESTS = _meter.create_counter("komodo_mcp.komodo.requests", description="Round trips to Komodo")
RATE_LIMITED = _meter.create_counter("komodo_mcp.rate_limit.rejections",
                                     description="Calls refused by the client-side rate limiter")


def komodo_span(module: str, operation: str) -> Any:
    return _tracer.start_as_current_span(f"komodo {module} {operation}", kind=trace.SpanKind.CLIENT,
                                         attributes={"komodo.module": module, "komodo.operation": operation})


def wanted() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_TRACES_EXPORTER")
                or os.environ.get("OTEL_METRICS_EXPORTER") or os.environ.get("KOMODO_MCP_PROMETHEUS"))


def configure() -> bool:
    """Install tracer and meter providers from the environment; False when telemetry is not asked for."""
    if not wanted():
        return False
    try:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        logger.warning("OTEL_* is set but the otel extra is not installed: pip install 'komodo-mcp[otel]'")
        return False
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "komodo-mcp")})
    readers: list[Any] = []
    tracer_provider = TracerProvider(resource=resource)
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_TRACES_EXPORTER") == "otlp":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))
    if os.environ.get("KOMODO_MCP_PROMETHEUS"):
        from opentelemetry.exporter.prometheus import PrometheusMetricReader

        readers.append(PrometheusMetricReader())
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))
    logger.info("OpenTelemetry configured (%d metric readers)", len(readers))
    return True


def prometheus_text() -> bytes:
    from prometheus_client import generate_latest

    return generate_latest()
