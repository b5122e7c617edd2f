"""The package as users install it: the wheel carries both packages and the command; server.json agrees."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_the_wheel_carries_the_server_the_simulator_and_the_command(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
                   check=True, timeout=300)
    (wheel,) = tmp_path.glob("komodo_mcp-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith("entry_points.txt"))
        metadata = next(archive.read(n).decode() for n in names if n.endswith("METADATA"))
    assert {"komodo_mcp/cli.py", "komodo_mcp/tools/deployments.py", "komodo_mcp/tools/schemas.json",
            "komodo_mcp/tools/catalogue.json", "komodo_sim/app.py"} <= names  # the precomputed tool list a cold
    # start answers from
    assert "komodo-mcp = komodo_mcp.cli:main" in entry_points  # so `uvx komodo-mcp` and `pipx run komodo-mcp` work
    assert "Requires-Dist: mcp~=2.3" in metadata and "Provides-Extra: otel" in metadata


def test_server_json_matches_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    server = json.loads((ROOT / "server.json").read_text())
    (package,) = server["packages"]
    assert server["version"] == package["version"] == project["version"]
    assert package["identifier"] == project["name"] and package["registryType"] == "pypi"
    assert {v["name"] for v in package["environmentVariables"] if v.get("isRequired")} == {
        "KOMODO_URL", "KOMODO_API_KEY", "KOMODO_API_SECRET"}


def test_the_image_runs_as_a_non_root_user_with_a_health_check():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") == 2 and "USER komodo" in dockerfile and "/health" in dockerfile
