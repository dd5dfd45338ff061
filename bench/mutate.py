"""`make mutate`: mutation testing of the modules that hold the product's rules (cosmic-ray).

For each core-rule module, a fixed-seed sample of the mutants cosmic-ray can make
(`MUTATE_SAMPLE=N`, default 40; `MUTATE_SAMPLE=0`: every mutant) is applied to a private copy
of the project and run against that module's targeted tests only. A mutant is *killed* when the
tests fail, *survives* when they pass.
Survivors that cannot change behaviour are listed with the reason in
`bench/mutation_equivalents.json` and do not count against the score:

    score = killed / (all mutants - equivalent - incompetent)

`incompetent` mutants are those cosmic-ray could not run at all (they do not parse).
Prints a table, writes `bench/MUTATION.md` (and its data, `bench/MUTATION.json`: a run of some
modules replaces only their rows), exits 1 if any module scores under the target.

    .venv/bin/python bench/mutate.py                 # every module in MODULES
    MUTATE_ONLY=workflow,sla .venv/bin/python bench/mutate.py
    MUTATE_JOBS=2 MUTATE_SAMPLE=80 .venv/bin/python bench/mutate.py
    MUTATE_REPORT=/tmp/m.md …                        # write the report elsewhere
"""

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
COSMIC_RAY = ROOT / ".venv" / "bin" / "cosmic-ray"
EQUIVALENTS = ROOT / "bench" / "mutation_equivalents.json"
REPORT = Path(os.environ.get("MUTATE_REPORT") or ROOT / "bench" / "MUTATION.md")
RESULTS = REPORT.with_suffix(".json")  # every module's last run; MUTATE_ONLY updates its rows
TARGET = 0.95
# cards.py alone has ~900 mutants: by default a fixed-seed sample per module (MUTATE_SAMPLE=0: all).
DEFAULT_SAMPLE = 40
IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "__pycache__",
    "staticfiles",
    "media",
    "test-artifacts",
    "*.sqlite3",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
    "bench",
    "docs",
    "node_modules",
)

# module name → (path to mutate, the tests that pin its rules)
MODULES = {
    "cards": (
        "diagnosis/core/cards.py",
        [
            "tests/rules/test_card_rules.py",
            "tests/foundation/test_cards.py",
            "tests/security/test_card_scrub_property.py",
        ],
    ),
    "permissions": (
        "diagnosis/core/permissions.py",
        ["tests/rules/test_permission_rules.py", "tests/rules/test_service_permissions.py"],
    ),
    "workflow": (
        "diagnosis/tickets/workflow.py",
        [
            "tests/rules/test_workflow_rules.py",
            "tests/rules/test_service_permissions.py",
            "tests/diagnosis/test_ticket_workflow.py",
        ],
    ),
    "sla": ("diagnosis/tickets/sla.py", ["tests/rules/test_sla_rules.py"]),
    "ratelimits": (
        "diagnosis/core/ratelimits.py",
        ["tests/rules/test_ratelimit_rules.py", "tests/security/test_rate_limits.py"],
    ),
    "two_factor": (
        "diagnosis/accounts/two_factor.py",
        ["tests/rules/test_two_factor_rules.py", "tests/security/test_two_factor.py"],
    ),
    # The advice-safety rules are the checks the knowledge tests run on the content; they are
    # pinned by their own examples (the content itself is data, not code to mutate).
    "advice_safety": ("tests/knowledge/advice_rules.py", ["tests/knowledge/test_advice_rules.py"]),
}


@dataclass
class ModuleResult:
    name: str
    path: str
    total: int = 0
    killed: int = 0
    incompetent: int = 0
    survivors: list = field(default_factory=list)  # (mutation, diff)
    equivalent: list = field(default_factory=list)  # (mutation, diff, reason)
    seconds: float = 0.0
    available: int = 0  # mutants cosmic-ray can make in the module (the sample is drawn from them)
    sample: int | None = None
    date: str = ""

    @property
    def counted(self) -> int:
        return self.total - self.incompetent - len(self.equivalent)

    @property
    def score(self) -> float:
        return self.killed / self.counted if self.counted else 1.0


def _equivalents() -> list[dict]:
    if not EQUIVALENTS.exists():
        return []
    return json.loads(EQUIVALENTS.read_text(encoding="utf-8"))


def _line(path: Path, number: int) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else ""


def _matches(entry: dict, module: str, mutation: dict, source_line: str) -> bool:
    return (
        entry["module"] == module
        and entry["operator"] == mutation["operator_name"]
        and entry["line"] == source_line
        and entry.get("occurrence", mutation["occurrence"]) == mutation["occurrence"]
    )


def _sample(session: Path, size: int | None, seed: int = 2026) -> int:
    """Keep a fixed-seed random sample of `size` work items in a cosmic-ray session (all of
    them without a size). Returns how many there were."""
    with sqlite3.connect(session) as db:
        # Ordered by what the mutation is (job ids are random), so a seed picks the same
        # mutants on every run as long as the module does not change.
        ids = [
            row[0]
            for row in db.execute(
                "SELECT job_id FROM mutation_specs ORDER BY start_pos_row, start_pos_col, "
                "end_pos_row, end_pos_col, operator_name, occurrence"
            )
        ]
        if not size or len(ids) <= size:
            return len(ids)
        keep = set(random.Random(seed).sample(ids, size))
        drop = [(job,) for job in ids if job not in keep]
        db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", drop)
        db.executemany("DELETE FROM work_items WHERE job_id = ?", drop)
        return len(ids)


def run_module(name: str, sample: int | None) -> ModuleResult:
    path, tests = MODULES[name]
    result = ModuleResult(
        name=name, path=path, sample=sample, date=datetime.now().strftime("%Y-%m-%d %H:%M")
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"declinedesk-mutate-{name}-") as tmp:
        copy = Path(tmp) / "project"
        shutil.copytree(ROOT, copy, ignore=IGNORE)
        command = " ".join(
            [str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--nomigrations"]
            + tests
        )
        config = copy / "cosmic-ray.toml"
        config.write_text(
            "[cosmic-ray]\n"
            f'module-path = "{path}"\n'
            "timeout = 120.0\n"
            "excluded-modules = []\n"
            f'test-command = "{command}"\n'
            '[cosmic-ray.distributor]\nname = "local"\n',
            encoding="utf-8",
        )
        session = copy / "session.sqlite"
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "DATABASE_URL": ""}
        run = {"cwd": copy, "env": env, "check": True, "capture_output": True, "text": True}
        baseline = subprocess.run(command.split(), cwd=copy, env=env, capture_output=True)
        if baseline.returncode != 0:
            sys.exit(f"{name}: the targeted tests fail without any mutant; fix them first.")
        subprocess.run([str(COSMIC_RAY), "init", str(config), str(session)], **run)
        result.available = _sample(session, sample)
        subprocess.run([str(COSMIC_RAY), "exec", str(config), str(session)], **run)
        dump = subprocess.run([str(COSMIC_RAY), "dump", str(session)], **run).stdout
        source = ROOT / path
        equivalents = _equivalents()
        for line in dump.splitlines():
            item, outcome = json.loads(line)
            mutation = item["mutations"][0]
            result.total += 1
            if outcome is None or outcome.get("test_outcome") == "incompetent":
                result.incompetent += 1
                continue
            if outcome["test_outcome"] == "killed":
                result.killed += 1
                continue
            source_line = _line(source, mutation["start_pos"][0])
            reason = next(
                (e["reason"] for e in equivalents if _matches(e, name, mutation, source_line)),
                None,
            )
            entry = (mutation, outcome.get("diff", ""))
            if reason:
                result.equivalent.append((*entry, reason))
            else:
                result.survivors.append(entry)
    result.seconds = time.monotonic() - started
    return result


def _diff_lines(diff: str) -> str:
    changed = [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return "\n".join(changed)


def _load_results() -> dict[str, ModuleResult]:
    """The last run of every module (so `MUTATE_ONLY=sla` updates sla's rows only)."""
    if not RESULTS.exists():
        return {}
    rows = json.loads(RESULTS.read_text(encoding="utf-8"))
    return {row["name"]: ModuleResult(**row) for row in rows if row["name"] in MODULES}


def _save_results(results: dict[str, ModuleResult]) -> list[ModuleResult]:
    ordered = [results[name] for name in MODULES if name in results]
    RESULTS.write_text(
        json.dumps([asdict(r) for r in ordered], ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8",
    )
    return ordered


def write_report(results: list[ModuleResult]) -> None:
    out = [
        "# Mutation testing of the core rules",
        "",
        "Written by `make mutate` (bench/mutate.py, cosmic-ray; the data is in "
        f"`{RESULTS.name}`). Each module's mutants (all of them, or a fixed-seed sample of the "
        "`available` ones with `MUTATE_SAMPLE`) run against that module's targeted tests only. "
        "Score = killed / (mutants − equivalent − incompetent); target ≥ 95%. Equivalent "
        "mutants (`bench/mutation_equivalents.json`) are listed below with the reason.",
        "",
        "| module | file | run | available | mutants | killed | survived | equivalent "
        "| incompetent | score | time |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        out.append(
            f"| {r.name} | `{r.path}` | {r.date} | {r.available} | {r.total} | {r.killed} | "
            f"{len(r.survivors)} | {len(r.equivalent)} | {r.incompetent} | {r.score:.1%} | "
            f"{r.seconds / 60:.1f} min |"
        )
    for r in results:
        if r.survivors:
            out += ["", f"## Survivors in {r.name}", ""]
            for mutation, diff in r.survivors:
                out += [
                    f"- line {mutation['start_pos'][0]}, `{mutation['operator_name']}`:",
                    "  ```diff",
                    *[f"  {line}" for line in _diff_lines(diff).splitlines()],
                    "  ```",
                ]
        if r.equivalent:
            out += ["", f"## Equivalent mutants in {r.name} (not counted)", ""]
            for mutation, diff, reason in r.equivalent:
                change = "; ".join(_diff_lines(diff).splitlines())
                out.append(f"- line {mutation['start_pos'][0]}: `{change}` — {reason}")
    REPORT.write_text("\n".join(out) + "\n", encoding="utf-8")


def main() -> int:
    only = [m for m in os.environ.get("MUTATE_ONLY", "").split(",") if m]
    names = only or list(MODULES)
    unknown = set(names) - set(MODULES)
    if unknown:
        sys.exit(f"Unknown module(s): {', '.join(sorted(unknown))}; known: {', '.join(MODULES)}")
    sample = int(os.environ.get("MUTATE_SAMPLE") or DEFAULT_SAMPLE) or None
    jobs = int(os.environ.get("MUTATE_JOBS") or os.cpu_count() or 1)
    print(f"Mutating {', '.join(names)} ({jobs} at a time); this takes a while.", flush=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(lambda name: run_module(name, sample), names))
    print(f"{'module':<12} {'mutants':>7} {'killed':>6} {'surv.':>5} {'equiv.':>6} {'score':>7}")
    for r in results:
        print(
            f"{r.name:<12} {r.total:>7} {r.killed:>6} {len(r.survivors):>5} "
            f"{len(r.equivalent):>6} {r.score:>7.1%}"
        )
    write_report(_save_results({**_load_results(), **{r.name: r for r in results}}))
    print(f"Report: {REPORT}")
    return 0 if all(r.score >= TARGET for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
