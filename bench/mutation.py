"""Mutation testing of the server's decision code with mutmut 3, and the report docs/mutation-report.md.

Run by hand, not in CI (it takes a long while):  .venv/bin/python bench/mutation.py [group ...]
Installs mutmut into the running interpreter's environment when it is missing. Each group mutates a few modules and
runs only the fast unit test files that exercise them, with one worker (the machine is shared), in a scratch copy
under `.mutation/<group>/` (git-ignored): mutmut reads its settings from the pyproject.toml of the directory it runs
in, so each group gets its own. mutmut then runs, for each mutant, only the tests that called the mutated function.

Surviving mutants that cannot be told apart from the original by any caller are listed, with why, in
bench/mutation-equivalents.toml; the report counts them as equivalent and lists every other survivor with its diff.
Groups not named on the command line keep the results of their last run in `.mutation/`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from datetime import datetime, timezone
from pathlib import Path

MUTMUT = "mutmut==3.8.1"
ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
REPORT = ROOT / "docs" / "mutation-report.md"
EQUIVALENTS = ROOT / "bench" / "mutation-equivalents.toml"
GENERATED = "<!-- Everything below is written by bench/mutation.py; edit above this line. -->"

# group: (modules to mutate, the unit test files that exercise them)
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "client": (["src/komodo_mcp/client/_client.py", "src/komodo_mcp/client/paging.py",
                "src/komodo_mcp/client/_ratelimit.py", "src/komodo_mcp/client/_status.py",
                "src/komodo_mcp/client/_gather.py"],
               ["tests/test_client.py", "tests/test_status_table.py", "tests/test_client_decisions.py"]),
    "mapping": (["src/komodo_mcp/mapping/status.py", "src/komodo_mcp/mapping/envelope.py",
                 "src/komodo_mcp/mapping/common.py", "src/komodo_mcp/mapping/jobs.py",
                 "src/komodo_mcp/mapping/logs.py", "src/komodo_mcp/mapping/executions.py",
                 "src/komodo_mcp/mapping/deployments.py", "src/komodo_mcp/mapping/servers.py",
                 "src/komodo_mcp/mapping/stacks.py"],
                ["tests/test_mapping.py", "tests/test_mapping_decisions.py", "tests/test_mappers_decisions.py"]),
    "confirm-registry": (["src/komodo_mcp/tools/_confirm.py", "src/komodo_mcp/tools/_registry.py"],
                         ["tests/test_confirmation.py", "tests/test_toolsets.py", "tests/test_registry_decisions.py"]),
    "redact-audit": (["src/komodo_mcp/redact.py", "src/komodo_mcp/audit.py"],
                     ["tests/test_mapping.py", "tests/test_audit.py", "tests/test_redact_decisions.py"]),
    "tasks": (["src/komodo_mcp/tasks.py"], ["tests/test_tasks.py", "tests/test_tasks_decisions.py"]),
}
# Tests that race under load (issue 16 point 4): a flaky failure would stop mutmut's clean run.
DESELECTED = ["tests/test_audit.py::test_execute_calls_are_audited_and_reads_are_not"]
KILLED = {"killed", "timeout", "caught by type check"}  # the tests noticed the change


def ensure_mutmut() -> None:
    try:
        import mutmut  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", MUTMUT], check=True)


def prepare(group: str) -> Path:
    """A fresh scratch copy of the sources and tests, with the group's mutmut settings in its pyproject.toml."""
    modules, tests = GROUPS[group]
    scratch = WORK / group
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    shutil.copytree(ROOT / "src" / "komodo_mcp", scratch / "src" / "komodo_mcp",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", scratch / "tests", ignore=shutil.ignore_patterns("__pycache__", "node"))
    settings = (ROOT / "pyproject.toml").read_text()
    settings += ("\n[tool.mutmut]\nsource_paths = [\"src/komodo_mcp\"]\n"
                 f"only_mutate = {json.dumps(modules)}\n"
                 f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
                 f"pytest_add_cli_args = {json.dumps([arg for test in DESELECTED for arg in ('--deselect', test)])}\n"
                 # A mutant that makes a task wait forever would otherwise hold the one worker for minutes.
                 "timeout_multiplier = 4.0\n")
    (scratch / "pyproject.toml").write_text(settings)
    return scratch


def run(group: str) -> None:
    scratch = prepare(group)
    print(f"== {group}: mutating {', '.join(GROUPS[group][0])}", flush=True)
    with open(scratch / "mutmut.log", "w") as log:
        subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", "1"], cwd=scratch, stdout=log,
                       stderr=subprocess.STDOUT, check=False)


def results(group: str) -> dict[str, dict[str, str]]:
    """module → {mutant name: status}, from mutmut's own record of the last run of the group."""
    from mutmut.stats import status_by_exit_code

    by_module: dict[str, dict[str, str]] = {}
    for module in GROUPS[group][0]:
        meta = WORK / group / "mutants" / (module + ".meta")
        exit_codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        by_module[module] = {name: status_by_exit_code[code] for name, code in sorted(exit_codes.items())}
    return by_module


def diffs(group: str, mutants: dict[str, str]) -> dict[str, str]:
    """mutant name → the changed lines, asked of mutmut once per group (it reads the group's own settings)."""
    if not mutants:
        return {}
    script = ("import json, sys\nfrom mutmut.mutation.diff_apply import get_diff_for_mutant\n"
              "print(json.dumps({name: get_diff_for_mutant(name, path=path) for name, path in json.load(sys.stdin)}))")
    shown = subprocess.run([sys.executable, "-c", script], cwd=WORK / group, input=json.dumps(list(mutants.items())),
                           capture_output=True, text=True, check=True).stdout
    return {name: "\n".join(line for line in text.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---"))
            for name, text in json.loads(shown).items()}


def commit() -> str:
    """The commit whose src/ was mutated: the last one that changed src/, and whether the work tree differs."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "tests")
    return (f"{git('log', '-1', '--format=%h', '--', 'src')} (src/), HEAD {git('rev-parse', '--short', 'HEAD')}"
            + (" with uncommitted changes" if dirty else ""))


def report() -> str:
    equivalents: dict[str, str] = tomllib.loads(EQUIVALENTS.read_text()) if EQUIVALENTS.exists() else {}
    rows, equivalent_lines, survivor_lines = [], [], []
    totals = dict.fromkeys(("mutants", "killed", "survived", "equivalent", "no tests", "not run"), 0)
    # A group never run in this checkout (e.g. the slow `tasks`) is named as unmeasured, not counted as 0 mutants.
    unmeasured = [group for group in GROUPS if not (WORK / group / "mutants").exists()]
    for group in [g for g in GROUPS if g not in unmeasured]:
        by_module = results(group)
        shown = diffs(group, {mutant: module for module, statuses in by_module.items()
                              for mutant, status in statuses.items() if status not in KILLED})
        for module, statuses in by_module.items():
            count = dict.fromkeys(totals, 0)
            for mutant, status in statuses.items():
                count["mutants"] += 1
                if status == "not checked":  # a run stopped before this mutant's turn
                    count["not run"] += 1
                elif status in KILLED:
                    count["killed"] += 1
                elif mutant in equivalents:
                    count["equivalent"] += 1
                    equivalent_lines.append(f"- `{mutant}`: {equivalents[mutant]}\n\n```diff\n{shown[mutant]}\n```")
                else:
                    count["survived" if status == "survived" else "no tests"] += 1
                    survivor_lines.append(f"- `{mutant}` ({status})\n\n```diff\n{shown[mutant]}\n```")
            for key in totals:
                totals[key] += count[key]
            rows.append(_row(module.removeprefix("src/komodo_mcp/"), count, group))
    rows.append(_row("**all**", totals, ""))
    kept = REPORT.read_text().split(GENERATED)[0] if REPORT.exists() else "# Mutation report\n\n"
    return kept + "\n".join([
        GENERATED,
        "",
        "## Score",
        "",
        f"Measured at commit {commit()} on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC with {MUTMUT}, by "
        "`bench/mutation.py` (which regenerates this file). Score = killed / (mutants − equivalent − not run); a "
        "mutant whose function no selected test calls counts as not killed; \"not run\" are mutants a stopped run "
        "did not reach. Equivalent mutants are reviewed in `bench/mutation-equivalents.toml`."
        + (f" Not measured in this run: {', '.join(unmeasured)}." if unmeasured else ""),
        "",
        "| module | group (test files) | mutants | killed | survived | no tests | equivalent | not run | score |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        "## Surviving mutants",
        "",
        *(survivor_lines or ["None."]),
        "",
        "## Equivalent mutants",
        "",
        *(equivalent_lines or ["None."]),
        "",
    ])


def _row(module: str, count: dict[str, int], group: str) -> str:
    judged = count["mutants"] - count["equivalent"] - count["not run"]
    score = f"{100 * count['killed'] / judged:.1f} %" if judged else "–"
    tests = ", ".join(Path(t).name for t in GROUPS[group][1]) if group else ""
    return (f"| {module} | {tests} | {count['mutants']} | {count['killed']} | {count['survived']} | "
            f"{count['no tests']} | {count['equivalent']} | {count['not run']} | {score} |")


def main(argv: list[str]) -> None:
    unknown = set(argv) - set(GROUPS) - {"--report-only"}
    if unknown:
        sys.exit(f"unknown group(s): {', '.join(sorted(unknown))}; groups: {', '.join(GROUPS)}")
    ensure_mutmut()
    if "--report-only" not in argv:
        for group in [g for g in GROUPS if g in argv] or list(GROUPS):
            run(group)
    REPORT.write_text(report())
    print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
