"""The full adversarial suite (issue 14): every fuzz case of every tool, the secrets scan, caller churn with
3,000 keys, confirmation in all 18 transport x generation x capability combinations, the other MCP methods under
every safety setting. The normal test run takes a small deterministic sample of the same tests.

Run by hand:  .venv/bin/python bench/adversarial.py   (a few minutes; prints the figures line at the end)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    environment = {**os.environ, "KOMODO_MCP_ADVERSARIAL": "full"}
    command = [sys.executable, "-m", "pytest", "tests/adversarial", "-q", "-p", "no:cacheprovider", *sys.argv[1:]]
    sys.exit(subprocess.call(command, cwd=ROOT, env=environment))
