"""Convert MultiHop-RAG queries (queries_dev.json) to our question format (JSON Lines).

    python eval/convert_multihop.py ../shared/bench/multihop/queries_dev.json -o eval/runs/multihop_dev.jsonl
    python eval/convert_multihop.py ../shared/bench/multihop/queries_dev.json --half odd -o eval/runs/multihop_odd.jsonl

Each query keeps its `question_type` as `type`; its facts become evidence quotes with the article
title as `doc`; null queries become unanswerable questions (no answers, no evidence); each answer's type
is read from its form (`qa.eval.questions.answer_form`). `--half odd` keeps `mh-0001`, `mh-0003`, …, the
half the answerer's reader was never tried on; `--half even` the half it was developed on.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from qa.errors import QAError
from qa.eval import multihop_questions, write_questions


@click.command()
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="JSON Lines file to write.")
@click.option("--half", type=click.Choice(["odd", "even"]), help="Only the odd- or even-numbered questions.")
def main(queries: Path, output: Path, half: str | None) -> None:
    """Write QUERIES (a MultiHop-RAG JSON array) as a question set."""
    try:
        questions = multihop_questions(queries)
    except QAError as exc:
        raise click.ClickException(str(exc)) from None
    if half is not None:
        questions = [q for q in questions if int(q.id.rsplit("-", 1)[1]) % 2 == (half == "odd")]
    output.parent.mkdir(parents=True, exist_ok=True)
    write_questions(questions, output)
    types = ", ".join(f"{n} {t}" for t, n in Counter(q.type for q in questions).items())
    click.echo(f"wrote {len(questions):,} questions to {output} ({types})")


if __name__ == "__main__":
    main()
