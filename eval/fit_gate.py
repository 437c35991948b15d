"""Fit the short-answer gate (`qa.answer.gate`) leave-one-archive-out, and report each archive with the gate
fitted on the others beside no gate.

    python eval/fit_gate.py [--sets seed,wire] [--cache .cache/domain] [--penalty 20] [--rows .cache/gate-rows.json]
                            [--reuse] [--write]

Every set of `eval/domain/sets.json` not marked held out (or those named) is answered once with the gate
open; each short answer's clues (`qa.answer.gate.Clues`) are kept with whether it was right and what the
answer's first sentence would say with and without it (without it, the answering sentence leads: the
same answer less its first line). For each archive left out, a logistic model is fitted on the short
answers of the others, its threshold chosen there by `right - penalty * wrong`, and the left-out
archive is scored with it. `--write` fits on every archive and writes the numbers into `qa/answer/gate.py`.
`--reuse` reads the rows of an earlier run (`--rows`) instead of answering again.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answer import gate  # noqa: E402
from qa.eval.domain import ensure_index, load_sets, pick_sets  # noqa: E402
from qa.eval.metrics import contains_answer, direct_right, lead  # noqa: E402


@dataclass
class Tally:
    questions: int = 0
    answerable: int = 0
    first: int = 0
    given: int = 0
    right: int = 0
    wrong: int = 0

    def row(self) -> str:
        rate = self.wrong / self.answerable if self.answerable else 0.0
        return (f"first sentence {self.first}/{self.questions} · direct {self.given} given, {self.right} right, "
                f"{self.wrong} wrong ({rate:.3f} of {self.answerable} answerable)")


def harvest(names: str | None, cache: Path) -> list[dict]:
    """One row per question of each chosen set, answered with the gate open."""
    from qa.config import load_settings
    from qa.embed import load_embedder
    from qa.pipeline import Pipeline

    sets = load_sets(ROOT / "eval" / "domain" / "sets.json", ROOT)
    chosen = pick_sets(sets, names) if names else [s for s in sets if not s.held_out]
    rows: list[dict] = []
    embedder = None
    shipped, gate.GATE = gate.GATE, gate.OPEN
    for ds in chosen:
        if not ds.archive.exists():
            click.echo(f"{ds.name}: archive {ds.archive} absent, skipped", err=True)
            continue
        settings = load_settings({"index": cache / ds.name / "index"})
        ensure_index(ds, settings, log=lambda line: click.echo(line, err=True))
        if embedder is None:
            embedder = load_embedder(settings.model, settings.batch_size, settings.embedder, settings.device)
        pipeline = Pipeline.open(settings, embedder=embedder)
        for line in ds.questions.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            gate.RECORD = []
            a = pipeline.ask(q["question"])
            # the reader's short answer opens the answer ("X [n]."); a who-holds answer's is not the gate's
            clues = gate.RECORD[-1] if gate.RECORD and a.direct is not None and a.text.startswith(a.direct) else None
            gate.RECORD = None
            gold = q["answers"]
            rows.append({"set": ds.name, "id": q["id"], "answerable": bool(gold), "direct": a.direct,
                         "right": bool(gold) and a.direct is not None and direct_right(gold, a.direct),
                         "first_with": first_right(gold, a.text, a.marks, a.abstained),
                         "first_without": first_right(gold, *without_direct(a.text, a.marks), abstained=a.abstained)
                         if clues is not None else None,
                         "clues": asdict(clues) if clues is not None else None})
        pipeline.close()
        click.echo(f"{ds.name}: {sum(r['set'] == ds.name for r in rows)} questions", err=True)
    gate.GATE = shipped
    return rows


Marks = tuple[tuple[int, int, int], ...] | None


def first_right(gold: list[str], text: str, marks: Marks, abstained: bool) -> bool:
    first = lead(text, marks)
    return any(contains_answer(g, first) for g in gold) if gold else abstained


def without_direct(text: str, marks: Marks) -> tuple[str, Marks]:
    """The answer less its "X [n]." first line, as the answerer writes it when the gate says no."""
    cut = text.index("\n") + 1 if "\n" in text else len(text)
    kept = None if marks is None else tuple((a - cut, b - cut, n) for a, b, n in marks if a >= cut)
    return text[cut:], kept


def matrix(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([gate.Clues(**r["clues"]).vector() for r in rows], dtype=float).reshape(len(rows), len(gate.FEATURES))
    y = np.array([r["right"] for r in rows], dtype=float)
    return x, y


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Weights on the raw features and a bias, by Newton steps on the L2-penalised log loss of standardised
    features (the penalty spares the bias)."""
    mu, sd = x.mean(0), x.std(0)
    sd[sd == 0] = 1.0
    z = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(z @ w, -50, 50)))
        grad = z.T @ (p - y) + reg * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(reg + 1e-6)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = w[:-1] / sd
    return weights, float(w[-1] - (weights * mu).sum())


def fit_gate(rows: list[dict], penalty: float, l2: float) -> gate.Gate:
    """The gate fitted on the short answers among `rows`, its threshold the probability that maximises
    `right - penalty * wrong` (ties: the lower threshold, more answers)."""
    given = [r for r in rows if r["clues"] is not None]
    x, y = matrix(given)
    weights, bias = fit_logistic(x, y, l2)
    g = gate.Gate(tuple(round(float(v), 4) for v in weights), round(bias, 4), 0.0)
    probs = sorted({round(g.probability(gate.Clues(**r["clues"])), 4) for r in given})
    best, best_t = None, 0.0
    for t in [0.0, *probs]:
        kept = [r for r in given if g.probability(gate.Clues(**r["clues"])) >= t]
        value = sum(r["right"] for r in kept) - penalty * sum(not r["right"] for r in kept)
        if best is None or value > best:
            best, best_t = value, t
    return gate.Gate(g.weights, g.bias, best_t)


def tally(rows: list[dict], g: gate.Gate | None) -> Tally:
    t = Tally()
    for r in rows:
        t.questions += 1
        t.answerable += r["answerable"]
        if r["clues"] is None:  # no short answer from the extractive reader (or one the gate never sees)
            t.first += r["first_with"]
            if r["direct"] is not None:
                t.given += 1
                t.right += r["right"]
                t.wrong += not r["right"]
            continue
        if g is None or g.admits(gate.Clues(**r["clues"])):
            t.first += r["first_with"]
            t.given += 1
            t.right += r["right"]
            t.wrong += not r["right"]
        else:
            t.first += r["first_without"]
    return t


@click.command()
@click.option("--sets", "names", metavar="A,B", help="The archives fitted and reported (default: every set "
              "of eval/domain/sets.json not held out).")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=ROOT / ".cache" / "domain",
              show_default=".cache/domain", help="Where each archive's index is kept.")
@click.option("--rows", "rows_path", type=click.Path(dir_okay=False, path_type=Path),
              default=ROOT / ".cache" / "gate-rows.json", show_default=".cache/gate-rows.json",
              help="Where the answered rows are kept.")
@click.option("--reuse", is_flag=True, help="Read the rows of an earlier run instead of answering again.")
@click.option("--penalty", type=float, default=20.0, show_default=True, help="Right answers one wrong one costs.")
@click.option("--l2", type=float, default=10.0, show_default=True, help="Weight penalty of the logistic model.")
@click.option("--write", is_flag=True, help="Fit on every archive and write the gate into qa/answer/gate.py.")
def main(names: str | None, cache: Path, rows_path: Path, reuse: bool, penalty: float, l2: float,
         write: bool) -> None:
    if reuse:
        rows = json.loads(rows_path.read_text(encoding="utf-8"))
    else:
        rows = harvest(names, cache)
        rows_path.parent.mkdir(parents=True, exist_ok=True)
        rows_path.write_text(json.dumps(rows), encoding="utf-8")
    archives = list(dict.fromkeys(r["set"] for r in rows))
    if len(archives) < 2:
        raise click.ClickException("leave-one-archive-out needs at least two sets")
    click.echo(f"penalty {penalty:g}, l2 {l2:g}: each archive scored with the gate fitted on the others\n")
    held, base = Tally(), Tally()
    for name in archives:
        mine = [r for r in rows if r["set"] == name]
        g = fit_gate([r for r in rows if r["set"] != name], penalty, l2)
        after, before = tally(mine, g), tally(mine, None)
        for total, t in ((held, after), (base, before)):
            for f in ("questions", "answerable", "first", "given", "right", "wrong"):
                setattr(total, f, getattr(total, f) + getattr(t, f))
        click.echo(f"{name}: threshold {g.threshold:.3f}\n  gated:   {after.row()}\n  no gate: {before.row()}")
    click.echo(f"\nall left-out archives, gated: {held.row()}\nno gate:                      {base.row()}")
    final = fit_gate(rows, penalty, l2)
    click.echo("\nfitted on every archive: " + ", ".join(f"{f} {w:+.3f}" for f, w in zip(gate.FEATURES, final.weights))
               + f", bias {final.bias:+.3f}, threshold {final.threshold:.4f}")
    if write:
        path = ROOT / "qa" / "answer" / "gate.py"
        text = path.read_text(encoding="utf-8")
        literal = f"GATE = Gate({final.weights!r}, {final.bias!r}, {final.threshold!r})"
        text, n = re.subn(r"^GATE = Gate\(.*\)$", literal, text, count=1, flags=re.M)
        if n != 1:
            raise click.ClickException("no GATE line in qa/answer/gate.py")
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {literal}")


if __name__ == "__main__":
    main()
