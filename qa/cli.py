"""The `qa` command: each sub-command parses input, calls one library function and prints."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import click

from qa.errors import QAError, describe_os_error
from qa.text import plural

# Terminal control sequences: CSI (`ESC[2J`, cursor moves, colours), OSC (`ESC]52;c;…` clipboard,
# `ESC]8;;URL` links) and the other string sequences, in their 7-bit and 8-bit forms, to their end.
_ESCAPES = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
                      r"|(?:\x1b[\]P^_X]|[\x9d\x90\x9e\x9f\x98])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
                      r"|\x1b[ -/]*[0-~]?")


def terminal_safe(text: str, lines: bool = False) -> str:
    """Archive text fit to print on a terminal: escape sequences removed whole, other control and
    format characters (bidi overrides, zero-width) dropped, line breaks kept only with `lines`.

    `terminal_safe('T\x1b]52;c;aGk=\x07itle\x1b[2J')` -> `'Title'`
    """
    if text.isprintable() or (lines and text.replace("\n", "").isprintable()):
        return text
    text = _ESCAPES.sub("", text)
    out = []
    for ch in text:
        kind = unicodedata.category(ch)
        if ch == "\n" and lines:
            out.append(ch)
        elif kind in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif kind[0] != "C":
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=1)
def _invisible() -> re.Pattern[str]:
    """Characters past ASCII that JSON leaves raw but a terminal acts on or hides: C1 controls
    (`\x9b` is CSI), bidi and other format characters, line and paragraph separators."""
    points = [*range(0x7F, 0x10000), *range(0xE0000, 0xE0080)]
    return re.compile("[" + "".join(re.escape(chr(c)) for c in points
                                    if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp")) + "]")


def json_line(record: Any) -> str:
    """One JSON line, safe on a terminal and still exact: what `json.dumps` leaves raw among the
    characters `_invisible` names is written as a `\\uXXXX` escape."""
    text = json.dumps(record, ensure_ascii=False)
    if text.isascii():
        return text
    return _invisible().sub(lambda m: "".join(f"\\u{u:04x}" for u in _utf16(m[0])), text)


def _utf16(ch: str) -> list[int]:
    data = ch.encode("utf-16-be")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def _settings(ctx: click.Context, **overrides: Any):  # type: ignore[no-untyped-def]
    from qa.config import config_path, load_settings

    path = config_path(config_file=ctx.meta.get("qa.config_file"))
    if path is not None and not ctx.meta.get("qa.config_said"):  # said before anything is read or sent
        click.echo(f"Settings from {terminal_safe(str(path))}", err=True)
        ctx.meta["qa.config_said"] = True
    return load_settings({**ctx.obj, **{k: v for k, v in overrides.items() if v is not None}},
                         config_file=path)


def _questions(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """One question per line, or JSON Lines with a "question" field holding text and optional
    "from"/"to" dates."""
    from qa.dates import date_bounds

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise QAError(describe_os_error(exc, path, "read")) from None
    for n, raw in enumerate(data.splitlines(), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise QAError(f"{path}:{n}: this line is not UTF-8 text; save the file as UTF-8.") from None
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                record = json.loads(line)
                question = record["question"]
            except (ValueError, KeyError, TypeError, RecursionError):
                raise QAError(f"{path}:{n}: a JSON line needs a \"question\" field.") from None
            if not isinstance(question, str):
                raise QAError(f"{path}:{n}: \"question\" must be text, got {type(question).__name__} "
                              f"{json.dumps(question)[:40]}.")
            try:
                window = date_bounds(record)
            except ValueError as exc:
                raise QAError(f"{path}:{n}: {exc}.") from None
            yield question, window
        else:
            yield line.strip(), {}


class _Group(click.Group):
    """Turns library errors into one clean line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QAError as exc:
            raise click.ClickException(str(exc)) from None
        except (OSError, sqlite3.Error) as exc:  # the disk or the OS, wherever the library did not say
            raise click.ClickException(describe_os_error(exc)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


@click.group(cls=_Group)
@click.option("--index", type=click.Path(path_type=Path), envvar="QA_INDEX",
              help="Index folder (default: ./index, or $QA_INDEX).")
@click.option("--model", envvar="QA_MODEL", help="Embedding model: the packaged default, a folder, or a name.")
@click.option("--embedder", envvar="QA_EMBEDDER", type=click.Choice(["auto", "torch", "onnx-int8"]),
              help="What runs the model: onnx-int8 (the packaged model, int8, on onnxruntime) or torch. "
                   "Default auto: onnx-int8 for the packaged model on the CPU, else torch; an existing "
                   "index is searched and updated with the runtime that built it.")
@click.option("--device", envvar="QA_DEVICE", help="Where the torch embedder runs: cpu (default), cuda, cuda:N.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="TOML settings file (default: $QA_CONFIG, else ~/.config/archive-qa/qa.toml if it exists; "
                   "./qa.toml is not read).")
@click.version_option(package_name="archive-qa")
@click.pass_context
def cli(ctx: click.Context, index: Path | None, model: str | None, embedder: str | None, device: str | None,
        config_file: Path | None) -> None:
    """Ask a news archive questions and get answers with cited passages."""
    ctx.obj = {"index": index, "model": model, "embedder": embedder, "device": device}
    ctx.meta["qa.config_file"] = config_file  # shared with every subcommand's context


@cli.group(cls=_Group)
def index() -> None:
    """Build and inspect the index."""


@index.command("build")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--follow-links", is_flag=True, default=None,
              help="Also read files that are links to places outside the archive folder (default: skipped).")
@click.option("--ray", "ray_address", is_flag=False, flag_value="", default=None, metavar="[ADDRESS]",
              help="Embed through Ray: alone, on a new local Ray instance; with the ADDRESS of a cluster "
                   "(HOST:6379, ray://HOST:10001, auto), on its nodes. Put it after the paths. "
                   "Needs: pip install 'archive-qa[ray]'.")
@click.pass_context
def index_build(ctx: click.Context, paths: tuple[Path, ...], index_dir: Path | None, quiet: bool,
                follow_links: bool | None, ray_address: str | None) -> None:
    """Index archive files and folders (.txt pages, .json, .jsonl), replacing the index."""
    from qa.build import build_index

    settings = _settings(ctx, index=index_dir, follow_links=follow_links or None)
    embedder = None
    if ray_address is not None:
        from qa.embed.ray_build import ray_embedder

        embedder = ray_embedder(settings.model, settings.batch_size, ray_address, settings.embedder)
    report = build_index(list(paths), settings, embedder=embedder, progress=not quiet)
    for skipped in report.skipped:
        click.echo(f"skipped {terminal_safe(str(skipped))}", err=True)
    click.echo(terminal_safe(report.summary(), lines=True))


@index.command("update")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option("--prune", is_flag=True,
              help="Also remove documents whose file under PATH is gone or no longer holds them.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--follow-links", is_flag=True, default=None,
              help="Also read files that are links to places outside the archive folder (default: skipped).")
@click.pass_context
def index_update(ctx: click.Context, paths: tuple[Path, ...], index_dir: Path | None, prune: bool,
                 quiet: bool, follow_links: bool | None) -> None:
    """Add new and changed documents from PATH..., embedding only passages that changed."""
    from qa.build import update_index

    report = update_index(list(paths), _settings(ctx, index=index_dir, follow_links=follow_links or None),
                          prune=prune, progress=not quiet)
    for skipped in report.skipped:
        click.echo(f"skipped {terminal_safe(str(skipped))}", err=True)
    click.echo(terminal_safe(report.summary(), lines=True))


@index.command("remove")
@click.argument("doc_ids", nargs=-1, required=True)
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.pass_context
def index_remove(ctx: click.Context, doc_ids: tuple[str, ...], index_dir: Path | None) -> None:
    """Remove documents by id (the doc_id of `qa search --json`); their files are left alone."""
    from qa.build import remove_documents

    click.echo(remove_documents(list(doc_ids), _settings(ctx, index=index_dir)).summary())


@index.command("stats")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@click.pass_context
def index_stats(ctx: click.Context, index_dir: Path | None, as_json: bool) -> None:
    """Show what the index holds and how it was built."""
    from qa.index import read_manifest
    from qa.index.folder import built_runtime

    settings = _settings(ctx, index=index_dir)
    build, manifest = read_manifest(settings.index)
    if as_json:
        click.echo(json.dumps({"path": str(build), **manifest}, indent=2))
        return
    c = manifest["counts"]
    click.echo(f"{build}\n{plural(c['documents'], 'document')}, {plural(c['comments'], 'comment')}, "
               f"{plural(c['chunks'], 'chunk')} "
               f"({c['article_chunks']:,} article, {c['comment_chunks']:,} comment)\n"
               f"model {manifest['model']['id']} ({manifest['model']['dim']}-d, "
               f"{built_runtime(manifest['model'])} on {manifest['model'].get('device', 'cpu')}), "
               f"built {manifest['created_at']} by archive-qa {manifest['package_version']}")


@index.command("verify")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.pass_context
def index_verify(ctx: click.Context, index_dir: Path | None) -> None:
    """Check every file of the live build against the sizes and hashes its manifest records."""
    from qa.index import verify_live

    build, files, size = verify_live(_settings(ctx, index=index_dir).index)
    click.echo(f"{build}: {plural(files, 'file')}, {size / 1e6:,.1f} MB, all match the manifest")


def _ask_options(f: Any) -> Any:
    f = click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")(f)
    f = click.option("--batch", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="File of questions: one per line, or JSONL with a question field.")(f)
    f = click.option("--kind", type=click.Choice(["article", "comment", "all"]), default="all",
                     show_default=True, help="Search articles, reader comments, or both.")(f)
    f = click.option("-k", type=click.IntRange(1, 100), help="Passages to return (default 5).")(f)
    f = click.option("--from", "date_from", metavar="DATE", help="Only reports from this date (YYYY-MM-DD).")(f)
    f = click.option("--to", "date_to", metavar="DATE",
                     help="Ask as the archive stood on this date: only reports up to it (YYYY-MM-DD).")(f)
    return click.argument("question", required=False)(f)


def _window(date_from: str | None, date_to: str | None) -> dict[str, str]:
    from qa.dates import parse_date

    window = {}
    for name, value in (("from", date_from), ("to", date_to)):
        if value is not None:
            iso = parse_date(value)
            if iso is None:
                raise QAError(f"--{name} {value!r} is not a date; write it as YYYY-MM-DD.")
            window[name] = iso
    if len(window) == 2 and window["from"] > window["to"]:
        raise QAError(f"The date range is empty: --from {window['from']} is after --to {window['to']}.")
    return window


def _run(ctx: click.Context, question: str | None, batch: Path | None, k: int | None, kind: str,
         index_dir: Path | None, one: Any, date_from: str | None = None, date_to: str | None = None) -> None:
    from qa.pipeline import Pipeline, clean_question
    from qa.search.retrieve import Filters

    if (question is None) == (batch is None):
        raise QAError("Give a QUESTION or --batch FILE (one of the two).")
    settings = _settings(ctx, index=index_dir)
    if question is not None:
        clean_question(question, settings.max_question_chars)  # refuse bad input before loading anything
    kinds = ("article", "comment") if kind == "all" else (kind,)
    given = _window(date_from, date_to)
    pipeline = Pipeline.open(settings)
    for q, window in ([(question, {})] if batch is None else _questions(batch)):
        window = {**given, **window}
        filters = Filters(kinds=kinds, date_from=window.get("from"), date_to=window.get("to"))
        one(pipeline, q, k, filters, batch is not None)


@cli.command()
@_ask_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (batch output is always JSON Lines).")
@click.pass_context
def search(ctx: click.Context, question: str | None, batch: Path | None, k: int | None, kind: str,
        index_dir: Path | None, as_json: bool, date_from: str | None, date_to: str | None) -> None:
    """Find the passages that best match a question."""
    from qa.answer import hit_record

    def one(pipeline: Any, q: str, k: int | None, filters: Any, batch: bool) -> None:
        hits = pipeline.search(q, k, filters)
        if as_json or batch:
            click.echo(json_line({"question": q, "hits": [hit_record(h) for h in hits]}))
        else:
            for h in hits:
                label = f"comment by {h.chunk.author}" if h.chunk.kind == "comment" else "article"
                click.echo(terminal_safe(f"{h.rank}. [{h.score:.3f}] {h.chunk.title} ({label})") + "\n   "
                           + " ".join(terminal_safe(h.chunk.text).split())[:300])
    _run(ctx, question, batch, k, kind, index_dir, one, date_from, date_to)


@cli.command()
@_ask_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (batch output is always JSON Lines).")
@click.pass_context
def ask(ctx: click.Context, question: str | None, batch: Path | None, k: int | None, kind: str,
        index_dir: Path | None, as_json: bool, date_from: str | None, date_to: str | None) -> None:
    """Answer a question with numbered, cited passages."""
    from qa.answer import citation_record, render_references

    def one(pipeline: Any, q: str, k: int | None, filters: Any, batch: bool) -> None:
        a = pipeline.ask(q, k, filters)
        if as_json or batch:
            click.echo(json_line({"question": q, "answer": a.text, "abstained": a.abstained,
                                  "notes": list(a.notes),
                                  "citations": [citation_record(c) for c in a.citations]}))
        else:
            notes = "".join(f"\n({n})" for n in a.notes)
            click.echo(terminal_safe(f"{a.text}{notes}\n\n{render_references(a.citations)}", lines=True))
    _run(ctx, question, batch, k, kind, index_dir, one, date_from, date_to)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=7860, show_default=True, help="Port to listen on.")
@click.option("--archive", type=click.Path(exists=True, path_type=Path),
              help="Archive to index when no index exists (default: the bundled sample archive).")
@click.option("--public-without-login", is_flag=True,
              help="Allow a non-loopback --host without QA_USERNAME/QA_PASSWORD (the archive is open to all).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, archive: Path | None, public_without_login: bool) -> None:
    """Serve the chat page. With no index: --archive builds one; the default ./index gets the sample archive.

    Set QA_USERNAME and QA_PASSWORD in the environment to require a login; beyond loopback one is required.
    """
    from qa.page.web import serve as run_server

    run_server(_settings(ctx), host=host, port=port, archive=archive, default_index=ctx.obj["index"] is None,
               public_without_login=public_without_login)


@cli.command("eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder.")
@click.option("--k", type=click.IntRange(1, 100), default=10, show_default=True, help="Passages scored per question.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True,
              help="Retrieval scored: fused, dense only or lexical only (answers always use the default).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Also write the tables here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Outcome of every question (default: eval/runs/NAME-MODE.json).")
@click.option("--no-answers", is_flag=True, help="Score retrieval only.")
@click.option("--from", "date_from", metavar="DATE", help="Only reports from this date, for questions that name none.")
@click.option("--to", "date_to", metavar="DATE",
              help="Ask as the archive stood on this date, for questions that name none.")
@click.pass_context
def eval_(ctx: click.Context, questions: Path, index_dir: Path | None, k: int, mode: str, report: Path | None,
          json_path: Path | None, no_answers: bool, date_from: str | None, date_to: str | None) -> None:
    """Score retrieval, answers and citations on a question set (JSON Lines, see eval/README.md)."""
    from qa.eval import run_eval

    window = _window(date_from, date_to)
    run = run_eval(questions, _settings(ctx, index=index_dir), k=k, mode=mode, answers=not no_answers,
                   report=report, json_path=json_path, date_from=window.get("from"), date_to=window.get("to"))
    click.echo(run.markdown)
    click.echo(f"outcomes: {run.json_path}" + (f"; report: {report}" if report else ""), err=True)


@cli.command("feedback-questions")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help="Index folder whose ratings to read.")
@click.pass_context
def feedback_questions(ctx: click.Context, out: Path, index_dir: Path | None) -> None:
    """Write the page's liked answers as a question set for `qa eval OUT` (one question per line)."""
    from qa.eval.questions import parse_question
    from qa.page.feedback import questions

    settings = _settings(ctx, index=index_dir)
    records, disliked = questions(settings.index)
    for record in records:
        parse_question(record)  # the set `qa eval` reads: checked as it will be
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    except OSError as exc:
        raise QAError(describe_os_error(exc, out)) from None
    click.echo(f"{plural(len(records), 'question')} from liked answers written to {terminal_safe(str(out))}; "
               f"run: qa eval {terminal_safe(str(out))}")
    if disliked:
        click.echo(f"{plural(disliked, 'disliked answer')} left out: write its right answer by hand to make it "
                   "a question.", err=True)


def main() -> None:
    cli(prog_name="qa")


if __name__ == "__main__":
    main()
