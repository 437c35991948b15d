"""Score retrieval, answers and citations on a question set; the same as `qa eval`.

    python eval/run.py eval/questions.jsonl [--index DIR] [--k 10] [--mode hybrid|dense|lexical]
                       [--report FILE] [--json FILE] [--no-answers]
"""

from __future__ import annotations

from pathlib import Path

import click

from qa.config import load_settings
from qa.errors import QAError
from qa.eval import run_eval


@click.command()
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), envvar="QA_INDEX",
              help="Index folder (default: ./index, or $QA_INDEX).")
@click.option("--k", type=click.IntRange(1, 100), default=10, show_default=True, help="Passages scored per question.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True,
              help="Retrieval scored: fused, dense only or lexical only (answers always use the default).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Also write the tables here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Outcome of every question (default: eval/runs/NAME-MODE.json).")
@click.option("--no-answers", is_flag=True, help="Score retrieval only.")
def main(questions: Path, index_dir: Path | None, k: int, mode: str, report: Path | None, json_path: Path | None,
         no_answers: bool) -> None:
    """Score retrieval, answers and citations on QUESTIONS (JSON Lines, see eval/README.md)."""
    try:
        run = run_eval(questions, load_settings({"index": index_dir}), k=k, mode=mode, answers=not no_answers,
                       report=report, json_path=json_path)
    except QAError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(run.markdown)
    click.echo(f"outcomes: {run.json_path}" + (f"; report: {report}" if report else ""), err=True)


if __name__ == "__main__":
    main()
