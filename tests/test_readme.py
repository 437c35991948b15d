"""Every command line in README.md's code blocks, run as written in a fresh shell, on a temporary index.

The lines are read from README.md at test time, so a command added there later is run too. A line
counts as a command when it starts with `qa `, `python ` or `make ` (or `$ ` and one of those);
what follows `  #` is a comment. Synopsis lines are filled in: `[...]` options are all given,
`a|b|c` takes the first choice, and PATH..., QUESTION, FILE, DOC_ID..., DIR and N get real values.
Left out, by name: set-up and the commands that serve until stopped (EXCLUDED).

The shell is what `source .venv/bin/activate` gives: the venv's bin first on PATH, in a copy of the
tracked tree (so nothing here is written to), with `../shared` beside it (skipped without it: the
README's example and evaluation commands read ../shared/archive). QA_INDEX
points at a temporary index and QA_MODEL is the model-free hash embedder, so no model loads and
every `qa` command without --index reads and writes that index. `make` lines run with the set-up
targets taken as done (`make -o`), so they never reinstall the environment.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.readme, pytest.mark.slow]

README = ROOT / "README.md"
PREFIXES = ("qa ", "python ", "make ")
# Set-up, and what serves until stopped (make run, qa serve, python app.py); `make test` and
# `make test-readme` run this file; `make test-llm` builds llama.cpp (minutes) and starts a model server.
EXCLUDED = ("make run", "make test", "make test-readme", "make test-llm", "make setup", "qa serve", "python app.py")
QUESTION = "Who controls the Al Waleed crossing?"


@dataclass
class Command:
    line: str  # as written in the README, comment removed
    block: int  # which code block
    expected: list[str] = field(default_factory=list)  # output shown under a `$ ` line


def readme_commands(text: str) -> list[Command]:
    """`readme_commands('```\\n$ qa ask "Q"\\nAnswer [1]\\n```')` -> one Command, expecting `Answer [1]`."""
    commands: list[Command] = []
    for n, block in enumerate(re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M)):
        last: Command | None = None  # a `$ ` line collects the output shown under it
        for raw in block.splitlines():
            shown = raw.startswith("$ ")
            line = (raw[2:] if shown else raw).split("  #", 1)[0].strip()
            if line.startswith(PREFIXES):
                commands.append(Command(line, n))
                last = commands[-1] if shown else None
            elif last is not None and raw.strip():
                last.expected.append(raw.rstrip())
    return commands


def excluded(line: str) -> bool:
    return any(line == e or line.startswith(e + " ") for e in EXCLUDED)


def fill(line: str, values: dict[str, str]) -> str:
    """A synopsis line made runnable: `qa search QUESTION [-k N] [--kind a|b]` -> `qa search 'Q' -k 3 --kind a`."""
    # every optional part given, but date bounds where no DATE is given: the archive here is undated,
    # so they would filter out every passage (tests/test_state.py runs them on a dated archive)
    if "DATE" not in values:
        line = re.sub(r"\s*\[[^\[\]]*\bDATE\b[^\[\]]*\]", "", line)
    line = re.sub(r"\[([^\[\]]*)\]", r"\1", line)
    line = re.sub(r"\b([a-z]+)(\|[a-z]+)+\b", r"\1", line)  # the first of the choices
    for name, value in values.items():
        line = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w.])", lambda _m, v=value: v, line)  # type: ignore[misc]
    if line.startswith("make "):
        line = "make -o .venv/.installed -o .venv/bin/activate " + line[len("make "):]
    return line


def documented_keys(text: str, command: str) -> set[str]:
    """The JSON field names the README lists after "`COMMAND` prints `{...}`"."""
    spec = text.split(f"`{command}` prints `", 1)[1].split("`", 1)[0]
    return set(re.findall(r'"(\w+)"', spec))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """A copy of the tracked tree, `../shared` beside it, a venv-first PATH, a temporary index built."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked tree cannot be listed")
    if not (ROOT.parent / "shared" / "archive").is_dir():
        pytest.skip("../shared/archive is not here: the README's evaluation commands read it")
    top = tmp_path_factory.mktemp("readme")
    repo = top / "repo"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    if (ROOT.parent / "shared").is_dir():
        (top / "shared").symlink_to(ROOT.parent / "shared")
    venv = Path(sys.prefix)
    (repo / ".venv").symlink_to(venv)
    archive = top / "shared" / "archive"
    index = top / "index"
    env = {"PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}", "VIRTUAL_ENV": str(venv),
           "HOME": os.environ.get("HOME", str(top)), "PYTHONPATH": str(repo), "QA_INDEX": str(index),
           "QA_MODEL": "hash", "QA_CONFIG": "", "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "LANG": "C.UTF-8"}
    built = subprocess.run(["bash", "--noprofile", "--norc", "-c", f"qa index build {shlex.quote(str(archive))}"],
                           cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    return repo, env, archive


def test_the_readme_has_commands_and_excludes_only_what_it_names() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    lines = [c.line for c in commands]
    assert any(line.startswith("qa ask") for line in lines) and any(line.startswith("python eval/") for line in lines)
    assert {e for e in EXCLUDED if any(line == e or line.startswith(e + " ") for line in lines)} >= {
        "make run", "make test", "qa serve"}
    assert [c for c in commands if c.expected], "the README's example output is not read"


def test_every_readme_command_runs_as_written(workspace: tuple[Path, dict[str, str], Path], tmp_path: Path) -> None:
    repo, env, archive = workspace
    text = README.read_text(encoding="utf-8")
    batch = tmp_path / "questions.txt"
    batch.write_text(f"{QUESTION}\n{{\"question\": \"Who wrote about the crossing?\"}}\n", encoding="utf-8")
    values = {"PATH...": shlex.quote(str(archive)), "QUESTION": shlex.quote(QUESTION), "FILE": shlex.quote(str(batch)),
              "DOC_ID...": sorted(archive.glob("*.txt"))[-1].stem, "DIR": shlex.quote(env["QA_INDEX"]), "N": "3"}
    ran: list[str] = []
    failures = []
    for command in readme_commands(text):
        line = fill(command.line, values)
        if excluded(command.line) or line in ran or (line.startswith("make ") and shutil.which("make") is None):
            continue
        done = subprocess.run(["bash", "--noprofile", "--norc", "-c", line], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=900)
        ran.append(line)
        problem = check(command, done, text)
        if problem:
            failures.append(f"{command.line}\n  ran: {line}\n  {problem}\n  stdout: {done.stdout[-1500:]}\n"
                            f"  stderr: {done.stderr[-1500:]}")
    assert not failures, "\n\n".join(failures)
    assert len(ran) >= 10, ran  # the README's own commands, not a handful


def check(command: Command, done: subprocess.CompletedProcess[str], readme: str) -> str:
    """What is wrong with one command's run, or ""."""
    if done.returncode != 0:
        return f"exit {done.returncode}"
    out = done.stdout
    if "Traceback" in out + done.stderr:
        return "a traceback"
    if not out.strip():
        return "no output"
    words = command.line.split()
    if "--json" in words or "--batch" in words:
        try:
            records = [json.loads(out)] if "--json" in words and "--batch" not in words else \
                [json.loads(line) for line in out.splitlines() if line.strip()]
        except ValueError as exc:
            return f"not JSON: {exc}"
        for name in ("qa search", "qa ask"):
            if command.line.startswith(name) and "--batch" not in words:
                listed = documented_keys(readme, f"{name} --json")
                inner = records[0]["hits" if name == "qa search" else "citations"]
                found = set(records[0]) | (set(inner[0]) if inner else set())
                if found != listed:
                    return f"JSON fields {sorted(found)} differ from the README's {sorted(listed)}"
    for shown in command.expected:
        marker = re.match(r"^\[\d+\] ", shown)
        if marker:
            kind = re.match(r"^\[\d+\] (Article “|Reader comment by )", shown)
            start = marker.group(0) + (kind.group(1) if kind else "")
            if not any(line.startswith(start) for line in out.splitlines()):
                return f"no line starting {start!r} as the README shows"
        elif re.search(r"\[\d+\]$", shown) and not re.search(r"\[\d+\]", out.split("\n\n", 1)[0]):
            return "the answer has no [n] marker, as the README shows"
    if command.line.startswith("python eval/run.py") and not re.search(r"^- Retrieval", out, re.M):
        return "no summary lines"
    return ""


def test_readme_commands_parser_on_a_hand_made_readme() -> None:
    text = ("```\n$ qa ask \"Q\"\nAn answer [1]\n\n[1] Article “T”\n```\n\n"
            "```bash\nmake run    # serve\nqa search QUESTION [-k N] [--kind article|comment|all]\n```\n")
    commands = readme_commands(text)
    assert [c.line for c in commands] == ['qa ask "Q"', "make run",
                                          "qa search QUESTION [-k N] [--kind article|comment|all]"]
    assert commands[0].expected == ["An answer [1]", "[1] Article “T”"] and commands[1].expected == []
    assert excluded("make run") and excluded("make run ARCHIVE=x") and not excluded("make test-fast")
    filled = fill(commands[2].line, {"QUESTION": "'Who?'", "N": "3"})
    assert filled == "qa search 'Who?' -k 3 --kind article"
    assert fill("make eval", {}) == "make -o .venv/.installed -o .venv/bin/activate eval"
    assert fill("qa index build PATH... [--index DIR]", {"PATH...": "a", "DIR": "/i"}) == "qa index build a --index /i"
