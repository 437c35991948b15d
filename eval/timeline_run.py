"""Score timeline, period and disagreement answers on an archive against gold files.

    python eval/timeline_run.py ARCHIVE GOLD.jsonl [GOLD.jsonl …] [--model M] [--cache .cache/timeline] [--show]

Each GOLD file is a `timelines.jsonl` (questions with gold events) or a `disagreements.jsonl` (subjects with
gold pairs; each is asked as "Where do reports disagree about SUBJECT?"), in the format of
`eval/domain/README.md`. The archive is indexed once under `--cache` and reused while its content is unchanged.
Prints event recall, date accuracy, citation precision, and gold pairs found with unmatched pairs.

    python eval/timeline_run.py eval/dated_archive eval/timeline_dev/dated/*.jsonl
    python eval/timeline_run.py eval/domain/wire/archive eval/domain/wire/{timelines,disagreements}.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.errors import QAError  # noqa: E402
from qa.eval.timelines import (  # noqa: E402
    disagreement_question,
    load_gold,
    ratio,
    score_pairs,
    score_timeline,
    summary,
)


@click.command()
@click.argument("archive", type=click.Path(exists=True, path_type=Path))
@click.argument("gold", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", help="Embedding model: the packaged default, a folder, a name, or hash (tests).")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=ROOT / ".cache" / "timeline",
              show_default=".cache/timeline", help="Where the archive's index is kept.")
@click.option("--show", is_flag=True, help="Print every answer under its scores.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the totals here.")
def main(archive: Path, gold: tuple[Path, ...], model: str | None, cache: Path, show: bool,
         json_path: Path | None) -> None:
    """Ask each gold question of ARCHIVE's index and score the answers."""
    from qa.config import load_settings
    from qa.eval.domain import DomainSet, archive_hash, ensure_index
    from qa.pipeline import Pipeline

    try:
        folder = cache / archive_hash(archive)[:16]
        folder.mkdir(parents=True, exist_ok=True)
        settings = load_settings({"index": folder / "index", "model": model})
        ensure_index(DomainSet(archive.name, archive, archive, False), settings, lambda s: click.echo(s, err=True))
        pipeline = Pipeline.open(settings)
        timelines, pairs = [], []
        for path in gold:
            for record in load_gold(path):
                if "events" in record:
                    answer = pipeline.ask(record["question"])
                    s = score_timeline(answer, record)
                    timelines.append(s)
                    line = f"{record['id']}: events {s.found}/{s.events}, dates {s.right_date}/{s.found}, " \
                           f"citations {s.supported}/{s.markers}"
                else:
                    answer = pipeline.ask(disagreement_question(record))
                    p = score_pairs(answer, record)
                    pairs.append(p)
                    line = f"{record['id']}: pairs {p.found}/{p.gold}, unmatched {p.unmatched}"
                click.echo(line)
                if show:
                    click.echo("  " + answer.text.replace("\n", "\n  "))
    except QAError as exc:
        raise click.ClickException(str(exc)) from None
    t = summary(timelines, pairs)
    click.echo(f"event recall {ratio(t['found'], t['events'])}; date accuracy {ratio(t['right_date'], t['found'])}; "
               f"citation precision {ratio(t['supported'], t['markers'])}; pairs found "
               f"{ratio(t['pairs_found'], t['pairs'])}; unmatched pairs {t['unmatched_pairs']}")
    if json_path is not None:
        json_path.write_text(json.dumps(t, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
