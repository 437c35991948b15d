"""List the questions that flipped between two evaluation runs: hit@10, first sentence right, direct
answer right, direct answer wrong (a new wrong direct answer is a regression), evidence quoted, abstained.

    python eval/compare.py eval/runs/before.json eval/runs/after.json

Both files come from `eval/run.py --json` (or `qa eval`) or both from `eval/domain_run.py --json`.
"""

from __future__ import annotations

from pathlib import Path

import click

from qa.errors import QAError
from qa.eval import flips, load_run, render_flips


@click.command()
@click.argument("a", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(dir_okay=False, path_type=Path))
def main(a: Path, b: Path) -> None:
    """Questions whose outcome differs from run A to run B, per metric."""
    try:
        (info_a, before), (info_b, after) = load_run(a), load_run(b)
    except QAError as exc:
        raise click.ClickException(str(exc)) from None
    k = min(10, info_a["k"], info_b["k"])
    ids_a, ids_b = {o.id for o in before}, {o.id for o in after}
    click.echo(render_flips(flips(before, after, k), sorted(ids_a - ids_b), sorted(ids_b - ids_a)), nl=False)


if __name__ == "__main__":
    main()
