"""Several question sets, each on its own archive: the list of sets (`eval/domain/sets.json`), an index per
archive built once and reused while the archive is unchanged, and one table over all of them.

`sets.json` is a JSON list of `{"name": ..., "archive": ..., "questions": ..., "held_out": true|false}`;
`archive` and `questions` are paths relative to the repository (an absolute path is taken as it is).
A set whose archive is absent is skipped with a line saying so.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.errors import QAError
from qa.eval.outcomes import Outcome
from qa.eval.questions import load_json
from qa.eval.report import (
    ANSWER_HEADER,
    FORMAT,
    Scores,
    answer_cells,
    answers_table,
    markdown_table,
    score,
    shortfalls,
    summarise,
)
from qa.eval.targets import targets_for

SET_FIELDS = ("name", "archive", "questions", "held_out")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class DomainSet:
    name: str
    archive: Path
    questions: Path
    held_out: bool


def load_sets(path: Path, root: Path) -> list[DomainSet]:
    """The sets listed in `path`, their paths resolved against `root`; QAError naming the set and the field
    when the file is not such a list."""
    items = load_json(path, f"No list of sets at {path}.", f"Cannot read {path} as JSON")
    if not isinstance(items, list) or not items:
        raise QAError(f"{path}: expected a non-empty JSON list of sets, each with {', '.join(SET_FIELDS)}.")
    sets: list[DomainSet] = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict) or set(item) != set(SET_FIELDS):
            raise QAError(f"{path}: set {n} must be an object with exactly {', '.join(SET_FIELDS)}.")
        name = item["name"]
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise QAError(f"{path}: set {n}: 'name' must be letters, digits, '_', '-' or '.', got {name!r}.")
        if any(s.name == name for s in sets):
            raise QAError(f"{path}: set {n}: the name {name!r} is already used.")
        for field in ("archive", "questions"):
            if not isinstance(item[field], str) or not item[field].strip():
                raise QAError(f"{path}: set {n} ({name}): {field!r} must be a path relative to the repository.")
        if not isinstance(item["held_out"], bool):
            raise QAError(f"{path}: set {n} ({name}): 'held_out' must be true or false.")
        sets.append(DomainSet(name, root / item["archive"], root / item["questions"], item["held_out"]))
    return sets


def pick_sets(sets: Sequence[DomainSet], names: str | None) -> list[DomainSet]:
    """The sets named in a comma-separated list (in the file's order), or all of them; QAError on a name
    the list lacks."""
    if not names:
        return list(sets)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    known = {s.name for s in sets}
    unknown = [n for n in wanted if n not in known]
    if unknown or not wanted:
        raise QAError(f"No set named {', '.join(unknown) or repr(names)}; the sets are {', '.join(sorted(known))}.")
    return [s for s in sets if s.name in wanted]


def archive_hash(path: Path) -> str:
    """SHA-256 over an archive's files: each file's path under the archive, then its bytes, in path order.
    A file or a folder; the same content gives the same hash wherever it lies."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        name = file.name if file == path else file.relative_to(path).as_posix()
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def ensure_index(ds: DomainSet, settings: Settings, log: Callable[[str], None] = print,
                 progress: bool = False) -> bool:
    """Build the index of `settings` from the set's archive unless the one there was built from the same
    content with the same model, embedder, passage sizes and package version. True when it was built now."""
    from qa import __version__
    from qa.build import build_index
    from qa.runtime import pick_runtime

    runtime = pick_runtime(settings.model, settings.embedder, settings.device)  # what a build here runs
    stamp = {"archive_hash": archive_hash(ds.archive), "model": settings.model, "embedder": runtime,
             "chunk_tokens": settings.chunk_tokens, "overlap_tokens": settings.overlap_tokens,
             "package_version": __version__}
    stamp_path = settings.index.parent / "source.json"
    try:
        if json.loads(stamp_path.read_text(encoding="utf-8")) == stamp and settings.index.is_dir():
            log(f"{ds.name}: reusing the index in {settings.index} (archive unchanged).")
            return False
    except (OSError, ValueError):
        pass
    log(f"{ds.name}: building an index of {ds.archive} in {settings.index} …")
    stamp_path.unlink(missing_ok=True)
    build_index([ds.archive], settings, progress=progress)
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return True


@dataclass(frozen=True)
class SetRun:
    set: DomainSet
    info: dict[str, Any]
    outcomes: list[Outcome]
    scores: list[Scores]  # `all`, then per type, answer type and kind

    @property
    def types(self) -> list[str]:
        return [o.type for o in self.outcomes]


def run_sets(sets: Sequence[DomainSet], make_settings: Callable[[Path], Settings], cache: Path, k: int = 10,
             log: Callable[[str], None] = print, progress: bool = False) -> list[SetRun]:
    """Each set whose archive is present, on its own index under `cache/NAME/index` (`make_settings` turns
    that folder into the run's settings); a set whose archive is absent is skipped with a line."""
    from qa.eval.runner import evaluate_set

    runs = []
    for ds in sets:
        if not ds.archive.exists():
            log(f"{ds.name}: skipped, no archive at {ds.archive}.")
            continue
        if not ds.questions.is_file():
            raise QAError(f"{ds.name}: no question set at {ds.questions}.")
        folder = cache / ds.name
        folder.mkdir(parents=True, exist_ok=True)
        settings = make_settings(folder / "index")
        ensure_index(ds, settings, log, progress)
        info, outcomes = evaluate_set(ds.questions, settings, k=k, progress=progress)
        runs.append(SetRun(ds, {**info, "set": ds.name, "held_out": ds.held_out}, outcomes, summarise(outcomes, k)))
    return runs


def total(runs: Sequence[SetRun], k: int) -> Scores | None:
    """The scores pooled over the held-out sets' questions; None when no held-out set ran."""
    pooled = [o for r in runs if r.set.held_out for o in r.outcomes]
    return score("total (held out)", pooled, k) if pooled else None


def render_table(runs: Sequence[SetRun], k: int) -> str:
    """One row per set and a total row over the held-out sets: the answer measures, each figure short of
    the set's target marked ✗ (held-out sets against the held-out targets)."""
    rows = []
    for r in runs:
        overall = r.scores[0]
        short = shortfalls(overall, k, targets_for(r.types, r.set.held_out))
        rows.append([r.set.name, "yes" if r.set.held_out else "no", *answer_cells(overall, short)])
    pooled = total(runs, k)
    if pooled is not None:
        types = [t for r in runs if r.set.held_out for t in r.types]
        rows.append([pooled.group, "yes", *answer_cells(pooled, shortfalls(pooled, k, targets_for(types, True)))])
    return markdown_table(["set", "held out", *ANSWER_HEADER], rows)


def render_report(runs: Sequence[SetRun], k: int) -> str:
    """The table over the sets, then each set's answers per question type, answer type and kind."""
    if not runs:
        return "No set ran.\n"
    parts = ["Answers as people read them, per set (first sentence right over all questions, an unanswerable "
             "one right when abstained; direct wrong includes direct answers to unanswerable questions and is "
             "shared over the answerable; ✗: short of its target in `qa/eval/targets.py`):", "",
             render_table(runs, k)]
    if not any(r.set.held_out for r in runs):
        parts += ["", "No held-out set ran: no total row."]
    for r in runs:
        parts += ["", f"### {r.set.name}: per question type", "", answers_table(r.scores)]
    return "\n".join(parts) + "\n"


def domain_record(runs: Sequence[SetRun], k: int) -> dict[str, Any]:
    """The JSON document of a multi-set run, readable by `load_run` (ids prefixed `SET/`), so
    `eval/compare.py` can diff two of them question by question."""
    outcomes = []
    for r in runs:
        for o in r.outcomes:
            outcomes.append({**asdict(o), "id": f"{r.set.name}/{o.id}"})
    pooled = total(runs, k)
    return {
        "format": FORMAT,
        "run": {"k": k, "sets": [{"name": r.set.name, "archive": str(r.set.archive), "held_out": r.set.held_out,
                                  **{key: v for key, v in r.info.items() if key not in ("set", "held_out")}}
                                 for r in runs]},
        "scores": [{"set": r.set.name, **asdict(r.scores[0])} for r in runs]
        + ([{"set": "total", **asdict(pooled)}] if pooled else []),
        "outcomes": outcomes,
    }
