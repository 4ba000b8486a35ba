"""Mutation testing of one module against its own tests (mutmut), in a throwaway copy of the repo.

    ./bench.sh mutation MODULE [--tests FILE ...] [--jobs N] [--diffs] [--keep] [--no-shared]

MODULE is ``naming.fastparse``, ``pylapse.naming.fastparse`` or ``pylapse/naming/fastparse.py``.
mutmut changes the module one small edit at a time (``<`` into ``<=``, ``+ 1`` into ``+ 2``, a
call argument into ``None`` ...) and runs the tests that reach the changed function; a mutant
no test notices *survived*. The score is the share of mutants the tests caught (killed, or
stopped by a timeout).

The run happens in a temporary copy of the checkout with a ``[tool.mutmut]`` section generated for
just MODULE and its test files, so nothing (``mutants/``, caches) is written into the checkout and
other work in the tree is never touched. ``../shared`` is linked beside the copy, as beside the
checkout; ``--no-shared`` hides it, to see what the tests catch without the shared test data.

The test files default to the module's own ``tests/**/test_<name>.py`` (plus the few listed in
:data:`EXTRA_TESTS`); ``--tests`` replaces them. Prints the counts, the score, and the surviving
mutants with the line each changes (``--diffs``: the whole diff; ``--keep`` keeps the copy, so
``mutmut show NAME`` / ``mutmut browse`` work in it afterwards).

Some mutants cannot be caught by any test: they change only speed (a fast path refused, so the
plain path answers) or nothing at all (a sentinel that is never reached). Those are listed, with
the reason, in ``bench/mutation_equivalent.txt`` by what they change (``path::function: old =>
new``, so the list survives mutmut renumbering an edited function's mutants); the score is also
given without them, and entries that no longer survive are reported so the list stays honest.
Slow (minutes per module): a developer command, never part of ``./test.sh``. The scores per module
are in docs/architecture.md, "Mutation scores".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Mutants known to be equivalent (no test can tell them from the module), with the reason.
EQUIVALENT = REPO / "bench" / "mutation_equivalent.txt"

#: Test files beyond the module's own ``test_<name>.py``: where the tests of its behaviour live
#: (targets are exercised through selections, fastparse through names and scans).
EXTRA_TESTS: dict[str, list[str]] = {
    "pylapse/selection/targets.py": ["tests/pylapse/selection/test_selection.py"],
    "pylapse/selection/selection.py": [
        "tests/pylapse/selection/test_matching.py",
        "tests/pylapse/selection/test_slots.py",
    ],
    "pylapse/naming/fastparse.py": [
        "tests/pylapse/test_naming.py",
        "tests/pylapse/index/test_scan.py",
        "tests/pylapse/index/test_scan_days.py",
    ],
    "pylapse/export/staging.py": ["tests/pylapse/export/test_run.py"],
    "pylapse/storage/files.py": ["tests/pylapse/test_storage.py"],
    "pylapse/storage/images.py": ["tests/pylapse/test_storage.py"],
    "pylapse/storage/layout.py": ["tests/pylapse/test_storage.py"],
    "pylapse/storage/roots.py": ["tests/pylapse/test_storage.py"],
}

#: Left out of the copy: the venv, VCS data, caches and whatever runs and tests leave behind.
IGNORED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "mutants",
    "__pycache__",
    "*.pyc",
    ".hypothesis",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "*.egg-info",
    "test-artifacts",
    ".work",
    "data",
    "timelapse",
    "capture_config.json*",
)

#: mutmut's exit codes of a mutant run (mutmut.stats.status_by_exit_code), folded into ours.
CAUGHT = {"killed", "timeout", "caught by type check", "segfault"}


def module_path(name: str) -> str:
    """``naming.fastparse`` / ``pylapse.naming.fastparse`` / ``pylapse/naming/fastparse.py`` ->
    ``pylapse/naming/fastparse.py``; a package gives its ``__init__.py``."""
    if name.endswith(".py"):
        path = name
    else:
        dotted = name.removeprefix("pylapse.").replace(".", "/")
        path = f"pylapse/{dotted}.py"
        if not (REPO / path).is_file() and (REPO / f"pylapse/{dotted}/__init__.py").is_file():
            path = f"pylapse/{dotted}/__init__.py"
    if not (REPO / path).is_file():
        raise SystemExit(
            f"mutation: no module {path} "
            "(give e.g. naming.fastparse or pylapse/naming/fastparse.py)"
        )
    return path


def default_tests(path: str) -> list[str]:
    stem = Path(path).stem if Path(path).name != "__init__.py" else Path(path).parent.name
    found = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests").rglob(f"test_{stem}.py"))
    extra = [t for t in EXTRA_TESTS.get(path, []) if (REPO / t).is_file()]
    return sorted(set(found + extra))


def mutmut_config(path: str, tests: list[str]) -> str:
    """The generated ``[tool.mutmut]`` section: mutate only ``path``, run only ``tests``."""
    lines = [
        "[tool.mutmut]",
        f"source_paths = {json.dumps(['pylapse'])}",
        f"only_mutate = {json.dumps([path])}",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        # No cache written into the copy's tests; warnings as the project's own pytest config.
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]',
        # The copy has no git history to compare against.
        "use_git_change_detection = false",
        # Mutants run in processes forked from a server that only collected the tests: forked
        # from mutmut's own process (which ran every test once, unmutated) they would inherit
        # its warm caches (fastparse's day/clock caches, lru_caches in timeutil and naming), so
        # a mutant in cached code would never run and always "survive".
        'process_isolation = "forkserver"',
        "also_copy = " + json.dumps(["README.md", "docs", "bin", "capture_config.example.json"]),
    ]
    return "\n".join(lines) + "\n"


def make_copy(workdir: Path, path: str, tests: list[str], shared: bool) -> Path:
    copy = workdir / "repo"
    shutil.copytree(REPO, copy, ignore=IGNORED, symlinks=True)
    # The tests find ../shared beside the repo: the copy runs its tests in repo/mutants, so the
    # link goes beside mutants/, i.e. inside the copy.
    if shared and (REPO.parent / "shared").is_dir():
        (copy / "shared").symlink_to(REPO.parent / "shared")
    pyproject = copy / "pyproject.toml"
    text = pyproject.read_text()
    if "[tool.mutmut]" in text:
        raise SystemExit("mutation: pyproject.toml has its own [tool.mutmut]; remove it first")
    pyproject.write_text(text.rstrip("\n") + "\n\n" + mutmut_config(path, tests))
    tomllib.loads(pyproject.read_text())  # a broken config fails here, not deep inside mutmut
    return copy


def results(copy: Path, path: str) -> dict[str, str]:
    """Mutant name -> status, from mutmut's ``mutants/<path>.meta``."""
    from mutmut.stats import status_by_exit_code

    meta = copy / "mutants" / f"{path}.meta"
    if not meta.is_file():
        raise SystemExit(f"mutation: mutmut wrote no results ({meta} missing)")
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    return {name: status_by_exit_code[code] for name, code in codes.items()}


@dataclass(frozen=True)
class Survivor:
    name: str  # mutmut's name, e.g. pylapse.selection.matching.x__gallop__mutmut_2
    status: str  # "survived", "no tests", ...
    signature: str  # path::function: old => new, what EQUIVALENT lists
    diff: str


def signature(path: str, name: str, diff: str) -> str:
    """``pylapse/x.py::function: old line => new line``: a mutant by what it changes, so the
    list of equivalent mutants survives mutmut renumbering the mutants of an edited function."""
    mangled = name.rsplit(".", 1)[1].rsplit("__mutmut_", 1)[0]  # x_f or xǁClassǁmethod
    function = mangled[2:] if mangled.startswith("x_") else ".".join(mangled.split("ǁ")[1:])
    lines = diff.splitlines()
    old = " / ".join(ln[1:].strip() for ln in lines if ln[:1] == "-" and ln[:3] != "---")
    new = " / ".join(ln[1:].strip() for ln in lines if ln[:1] == "+" and ln[:3] != "+++")
    return f"{path}::{function}: {old} => {new}".rstrip()  # a removed line leaves nothing after =>


def survivors(copy: Path, path: str, status: dict[str, str]) -> list[Survivor]:
    """The mutants no test caught, with their diffs (read by mutmut's own code, in the copy)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    names = sorted((n for n, s in status.items() if s not in CAUGHT), key=_natural)
    here = os.getcwd()
    os.chdir(copy)  # mutmut reads mutants/ relative to the working folder
    try:
        diffs = [get_diff_for_mutant(name, path=path) for name in names]
    finally:
        os.chdir(here)
    return [
        Survivor(n, status[n], signature(path, n, d), d) for n, d in zip(names, diffs, strict=True)
    ]


def load_equivalent() -> dict[str, str]:
    """Signature -> why, from :data:`EQUIVALENT` (``# why:`` lines name the reason for the
    signatures under them)."""
    out: dict[str, str] = {}
    why = ""
    if not EQUIVALENT.is_file():
        return out
    for line in EQUIVALENT.read_text().splitlines():
        if line.startswith("# why:"):
            why = line.removeprefix("# why:").strip()
        elif line.strip() and not line.startswith("#"):
            out[line.strip()] = why
    return out


def report(path: str, tests: list[str], status: dict[str, str], found: list[Survivor],
           *, diffs: bool) -> None:  # fmt: skip
    counts = Counter(status.values())
    total = len(status)
    caught = sum(counts[s] for s in CAUGHT)
    known = load_equivalent()
    equivalent = [m for m in found if m.signature in known]
    open_ = [m for m in found if m.signature not in known]
    score = 100.0 * caught / total if total else 100.0
    counted = total - len(equivalent)
    net = 100.0 * caught / counted if counted else 100.0
    print()
    print(f"module      {path}")
    print(f"tests       {' '.join(tests)}")
    print(f"mutants     {total}")
    print(f"killed      {counts['killed'] + counts['segfault'] + counts['caught by type check']}")
    print(f"timeout     {counts['timeout']}")
    print(f"survived    {counts['survived']}")
    others = {s: n for s, n in counts.items() if s not in CAUGHT and s != "survived"}
    if others:  # "no tests" (no selected test reaches the function), "suspicious", ...
        print("other       " + ", ".join(f"{s} {n}" for s, n in sorted(others.items())))
    print(f"score       {score:.1f} %")
    print(f"equivalent  {len(equivalent)} (listed in {EQUIVALENT.relative_to(REPO)})")
    print(f"score without equivalent mutants  {net:.1f} %")
    if open_:
        print(f"surviving mutants ({len(open_)}, not known to be equivalent):")
        for m in open_:
            print(f"  {m.name}  ({m.status})")
            if diffs:
                body = [ln for ln in m.diff.splitlines()[2:] if ln.strip()]
                print("\n".join("      " + ln for ln in body))
            else:
                print(f"      {m.signature.split(': ', 1)[1]}")
    here = {sig for sig in known if sig.startswith(f"{path}::")}
    stale = sorted(here - {m.signature for m in found})
    if stale:
        print(f"listed as equivalent but not surviving now ({len(stale)}; remove them):")
        for sig in stale:
            print(f"  {sig}")


def _natural(name: str) -> list[object]:
    """``..._mutmut_9`` before ``..._mutmut_10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def run_mutmut(copy: Path, jobs: int) -> None:
    """``mutmut run`` in the copy; its spinner goes to a terminal, otherwise to a log file whose
    tail is shown if the run fails."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)  # the copy's mutants/ must be what the tests import
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs)]
    if sys.stdout.isatty():
        run = subprocess.run(command, cwd=copy, env=env, check=False)
    else:
        log = copy / "mutmut.log"
        with log.open("w") as out:
            run = subprocess.run(command, cwd=copy, env=env, stdout=out, stderr=out, check=False)
        if run.returncode != 0:
            print(log.read_text()[-4000:])
    if run.returncode != 0:
        raise SystemExit(f"mutation: mutmut run failed (exit {run.returncode})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "module", help="naming.fastparse, pylapse.naming.fastparse or pylapse/naming/fastparse.py"
    )
    parser.add_argument("--tests", nargs="+", help="test files to run (default: the module's own)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--diffs", action="store_true", help="print each survivor's whole diff")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    parser.add_argument("--no-shared", action="store_true", help="hide ../shared test data")
    args = parser.parse_args()

    try:
        import mutmut  # noqa: F401
    except ImportError:
        raise SystemExit(
            "mutation: mutmut is not installed; run .venv/bin/pip install -e '.[dev]'"
        ) from None
    path = module_path(args.module)
    tests = args.tests or default_tests(path)
    missing = [t for t in tests if not (REPO / t).is_file()]
    if not tests or missing:
        raise SystemExit(f"mutation: no test files for {path} ({missing or 'none found'}); --tests")

    workdir = Path(tempfile.mkdtemp(prefix="pylapse-mutation-"))
    try:
        copy = make_copy(workdir, path, tests, shared=not args.no_shared)
        print(f"mutation: {path} against {' '.join(tests)} in {copy}", flush=True)
        run_mutmut(copy, args.jobs)
        status = results(copy, path)
        report(path, tests, status, survivors(copy, path, status), diffs=args.diffs)
    finally:
        if args.keep:
            print(f"kept {workdir / 'repo'} (cd there and run {sys.executable} -m mutmut browse)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
