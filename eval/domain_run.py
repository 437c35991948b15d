"""Score every question set of `eval/domain/sets.json`, each on an index of its own archive, in one table.

    python eval/domain_run.py [--sets own,dated] [--json OUT] [--embedder torch|onnx-int8] [--model M]
                              [--k 10] [--sets-file eval/domain/sets.json] [--cache .cache/domain] [--quiet]

Each archive is indexed once under `.cache/domain/NAME/index` and reused while its content (hashed), the
model, the embedder and the package version are unchanged. A set whose archive is absent (say
`../shared` is not there) is skipped with a line saying so. The table has a row per set and a total row
over the held-out sets; `--json` writes every question's outcome (ids `SET/ID`) for `eval/compare.py`.
Other settings come from `qa.toml` or `QA_*` variables, as for every `qa` command.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.errors import QAError  # noqa: E402
from qa.eval.domain import domain_record, load_sets, pick_sets, render_report, run_sets  # noqa: E402
from qa.eval.report import save_run  # noqa: E402


@click.command()
@click.option("--sets", "names", metavar="A,B", help="Only these sets (names from the sets file).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every question's outcome here (for eval/compare.py).")
@click.option("--embedder", type=click.Choice(["auto", "torch", "onnx-int8"]), help="What runs the embedding model.")
@click.option("--model", help="Embedding model: the packaged default, a folder, a name, or hash (tests).")
@click.option("--k", type=click.IntRange(1, 100), default=10, show_default=True, help="Passages scored per question.")
@click.option("--sets-file", type=click.Path(dir_okay=False, path_type=Path),
              default=ROOT / "eval" / "domain" / "sets.json", show_default="eval/domain/sets.json",
              help="The list of sets.")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=ROOT / ".cache" / "domain",
              show_default=".cache/domain", help="Where each archive's index is kept.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def main(names: str | None, json_path: Path | None, embedder: str | None, model: str | None, k: int,
         sets_file: Path, cache: Path, quiet: bool) -> None:
    """Score each set on its own archive's index and print one table."""
    from qa.config import load_settings

    def settings(index: Path):  # type: ignore[no-untyped-def]
        return load_settings({"index": index, "model": model, "embedder": embedder})

    def log(line: str) -> None:
        click.echo(line, err=True)

    try:
        chosen = pick_sets(load_sets(sets_file, ROOT), names)
        runs = run_sets(chosen, settings, cache, k=k, log=log, progress=not quiet)
    except QAError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render_report(runs, k), nl=False)
    if json_path is not None:
        save_run(domain_record(runs, k), json_path)
        log(f"outcomes: {json_path}")


if __name__ == "__main__":
    main()
