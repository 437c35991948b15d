"""Fit the typed reader's few numbers (`qa.answer.reader.Limits`) leave-one-archive-out, and report each archive
with the numbers fitted on the others.

    python eval/fit_reader.py [--sets seed,wire,analysis,forum] [--cache .cache/domain] [--penalty 10]

For every archive of `--sets` (names from `eval/domain/sets.json`), the grid of limits is scored on the
other archives by `right - penalty * wrong` direct answers (precision first: a wrong direct answer costs
`penalty` right ones), the best is applied to the left-out archive, and its figures are printed beside
those of the shipped limits. Indexes are built (or reused) as `eval/domain_run.py` builds them.
"""

from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import qa.answer.reader  # noqa: E402
from qa.answer.reader import Limits  # noqa: E402
from qa.eval.domain import ensure_index, load_sets, pick_sets  # noqa: E402
from qa.eval.metrics import contains_answer, direct_right, lead  # noqa: E402

GRID = [Limits(fit, reach, tie, rival) for fit, reach, tie, rival in
        itertools.product((0.5, 0.6, 0.7, 0.8), (6, 10, 14), (0.15, 0.3), (0.3, 0.5))]


@dataclass
class Tally:
    questions: int = 0
    first: int = 0
    given: int = 0
    right: int = 0
    wrong: int = 0

    def add(self, other: Tally) -> None:
        for f in ("questions", "first", "given", "right", "wrong"):
            setattr(self, f, getattr(self, f) + getattr(other, f))

    def objective(self, penalty: float) -> float:
        return self.right - penalty * self.wrong

    def row(self) -> str:
        return (f"first sentence {self.first}/{self.questions} · direct {self.given} given, {self.right} right, "
                f"{self.wrong} wrong")


def score(pipeline, questions: list[dict]) -> Tally:  # type: ignore[no-untyped-def]
    t = Tally()
    for q in questions:
        a = pipeline.ask(q["question"])
        gold = q["answers"]
        first = lead(a.text, a.marks)
        t.questions += 1
        t.first += any(contains_answer(g, first) for g in gold) if gold else a.abstained
        if a.direct is not None:
            t.given += 1
            ok = bool(gold) and direct_right(gold, a.direct)
            t.right += ok
            t.wrong += not ok
    return t


@click.command()
@click.option("--sets", "names", default="seed,wire,analysis,forum", show_default=True, metavar="A,B",
              help="The archives fitted and reported, one left out at a time.")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=ROOT / ".cache" / "domain",
              show_default=".cache/domain", help="Where each archive's index is kept.")
@click.option("--penalty", type=float, default=10.0, show_default=True, help="Right answers one wrong one costs.")
def main(names: str, cache: Path, penalty: float) -> None:
    from qa.config import load_settings
    from qa.embed import load_embedder
    from qa.pipeline import Pipeline

    chosen = pick_sets(load_sets(ROOT / "eval" / "domain" / "sets.json", ROOT), names)
    if len(chosen) < 2:
        raise click.ClickException("leave-one-archive-out needs at least two sets")
    embedder = None
    results: dict[str, dict[Limits, Tally]] = {}
    for ds in chosen:
        settings = load_settings({"index": cache / ds.name / "index"})
        ensure_index(ds, settings, log=lambda line: click.echo(line, err=True))
        if embedder is None:
            embedder = load_embedder(settings.model, settings.batch_size, settings.embedder, settings.device)
        questions = [json.loads(line) for line in ds.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
        pipeline = Pipeline.open(settings, embedder=embedder)
        results[ds.name] = {}
        with click.progressbar(GRID, label=f"{ds.name}: {len(GRID)} settings", file=sys.stderr) as bar:
            for limits in bar:
                qa.answer.reader.LIMITS = limits
                results[ds.name][limits] = score(pipeline, questions)
        pipeline.close()
    qa.answer.reader.LIMITS = Limits()
    shipped = Limits()
    held, base = Tally(), Tally()
    click.echo(f"penalty {penalty:g}: each archive scored with the limits fitted on the others\n")
    for ds in chosen:
        others = [n for n in results if n != ds.name]

        def on_others(limits: Limits, others: list[str] = others) -> float:
            total = Tally()
            for n in others:
                total.add(results[n][limits])
            return total.objective(penalty)

        best = max(GRID, key=lambda lim: (on_others(lim), lim == shipped))
        held.add(results[ds.name][best])
        base.add(results[ds.name][shipped])
        click.echo(f"{ds.name}: fitted on {', '.join(others)} -> {best}\n"
                   f"  held out: {results[ds.name][best].row()}\n"
                   f"  shipped:  {results[ds.name][shipped].row()}")
    click.echo(f"\nall left-out archives: {held.row()}\nshipped limits:        {base.row()}")


if __name__ == "__main__":
    main()
