"""One evaluation run: open the index, run a question set through it, score it, write the files."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.eval.outcomes import Outcome, evaluate
from qa.eval.questions import load_questions
from qa.eval.report import Scores, render_markdown, run_record, save_run, summarise
from qa.eval.targets import targets_for

MODES = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class EvalRun:
    info: dict[str, Any]
    scores: list[Scores]
    outcomes: list[Outcome]
    json_path: Path

    @property
    def markdown(self) -> str:
        i = self.info
        title = (f"Evaluation of {i['questions']} ({i['count']} questions) on {i['index']}: mode {i['mode']}, "
                 f"top {i['k']}, answers {'on' if i['answers'] else 'off'}; {i['seconds']:.1f} s "
                 f"({i['count'] / max(i['seconds'], 1e-9):.1f} questions/s).\n")
        targets = targets_for((o.type for o in self.outcomes), held_out=bool(i.get("held_out")))
        return render_markdown(self.scores, i["k"], title, targets)


def default_json_path(questions: Path, mode: str, answers: bool) -> Path:
    """`eval/runs/questions-hybrid.json`, or `…-hybrid-retrieval.json` without answers."""
    return Path("eval") / "runs" / f"{Path(questions).stem}-{mode}{'' if answers else '-retrieval'}.json"


def evaluate_set(questions: Path, settings: Settings, k: int = 10, mode: str = "hybrid", answers: bool = True,
                 progress: bool = True, date_from: str | None = None,
                 date_to: str | None = None) -> tuple[dict[str, Any], list[Outcome]]:
    """Load the questions (refusing a bad set before loading any model) and evaluate them on the index of
    `settings`: how it ran, and every outcome."""
    from qa import __version__
    from qa.errors import QAError
    from qa.pipeline import Pipeline

    if mode not in MODES:
        raise QAError(f"Unknown mode {mode!r}; use one of {', '.join(MODES)}.")
    if k < 1:
        raise QAError(f"k must be at least 1, got {k}.")
    items = [replace(q, date_from=q.date_from or date_from, date_to=q.date_to or date_to)
             for q in load_questions(questions)]
    pipeline = Pipeline.open(settings)
    try:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        start = time.perf_counter()
        outcomes = evaluate(pipeline, items, k=k, mode=mode, answers=answers, progress=progress)
        seconds = time.perf_counter() - start
    finally:
        pipeline.close()
    info = {
        "questions": str(questions), "count": len(items), "index": str(settings.index), "mode": mode, "k": k,
        "answers": answers, "started_at": started, "seconds": round(seconds, 3),
        "package_version": __version__, "model": pipeline.embedder.model_id,
        "settings": {key: str(v) if isinstance(v, Path) else v for key, v in asdict(settings).items()},
    }
    return info, outcomes


def run_eval(questions: Path, settings: Settings, k: int = 10, mode: str = "hybrid", answers: bool = True,
             report: Path | None = None, json_path: Path | None = None, progress: bool = True,
             date_from: str | None = None, date_to: str | None = None) -> EvalRun:
    """Evaluate a question set on the index of `settings` (`evaluate_set`), write the Markdown report (when
    asked) and the outcome JSON. The set is scored against the targets of a set that is not held out."""
    info, outcomes = evaluate_set(questions, settings, k, mode, answers, progress, date_from, date_to)
    run = EvalRun(info, summarise(outcomes, k), outcomes, json_path or default_json_path(questions, mode, answers))
    save_run(run_record(info, run.scores, outcomes), run.json_path)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(run.markdown, encoding="utf-8")
    return run
