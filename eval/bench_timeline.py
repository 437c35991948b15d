"""Time a timeline answer over many reports: the sample archive's articles repeated with their dates, numbers and
names varied, read as retrieved passages (no index, no model: the cost of reading, merging and writing).

    python eval/bench_timeline.py [--reports 1000] [--repeat 5]
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answer.digest import answer_timeline  # noqa: E402
from qa.answer.events import read_topic  # noqa: E402
from qa.ingest import iter_documents  # noqa: E402
from qa.types import Chunk, Hit  # noqa: E402


def varied_reports(n: int) -> list[Hit]:
    """`n` article passages from the sample archive, each copy moved by whole weeks and its numbers changed."""
    docs = [d for d in iter_documents([ROOT / "qa" / "data" / "sample_archive"], []) if d.published_at]
    hits = []
    for i in range(n):
        d = docs[i % len(docs)]
        shift = timedelta(weeks=i // len(docs))
        day = (date.fromisoformat(d.published_at[:10]) + shift).isoformat()  # type: ignore[index]
        text = d.body.replace("2024", str(2024 + i // (4 * len(docs)))).replace("14", str(10 + i % 40))
        chunk = Chunk(f"c{i}", f"{d.doc_id}-{i}", "article", text, d.title, 0, len(text), d.title, d.author, day)
        hits.append(Hit(chunk, 1.0, i, source=d.source))
    return hits


@click.command()
@click.option("--reports", default=1000, show_default=True, help="Reports in the timeline.")
@click.option("--repeat", default=5, show_default=True, help="Timings taken; the best is reported.")
def main(reports: int, repeat: int) -> None:
    hits = varied_reports(reports)
    topic = read_topic("Timeline of the Tal Varesh crossing")
    assert topic is not None
    best, answer = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        answer = answer_timeline("Timeline of the Tal Varesh crossing", topic, hits)
        best = min(best, time.perf_counter() - start)
    lines = answer.text.count("\n") if answer else 0
    click.echo(f"{reports} reports ({sum(len(h.chunk.text) for h in hits) / 1e6:.1f} M characters): timeline in "
               f"{best:.2f} s (best of {repeat}), {lines} lines")


if __name__ == "__main__":
    main()
