"""The adversarial suite (issue 14): a small deterministic sample in the normal run, everything with
KOMODO_MCP_ADVERSARIAL=full (see bench/adversarial.py). Figures are added up here and printed at the end."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import pytest

FULL = os.environ.get("KOMODO_MCP_ADVERSARIAL") == "full"
FIGURES: Counter[str] = Counter()
FINDINGS: list[str] = []


def record(kind: str, count: int = 1) -> None:
    FIGURES[kind] += count


def finding(what: str) -> None:
    FINDINGS.append(what)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        figures = {**FIGURES, "findings": len(FINDINGS), "mode": "full" if FULL else "sample"}
        terminalreporter.write_line(f"adversarial figures: {json.dumps(dict(sorted(figures.items())))}")
        for what in FINDINGS[:20]:
            terminalreporter.write_line(f"  finding: {what}")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
