"""The Gradio chat page: the pipeline is built once; handlers call the library and escape all text."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from qa.cite import describe
from qa.config import Settings
from qa.errors import IndexNotFound, QAError
from qa.pipeline import Pipeline
from qa.retrieve import Filters
from qa.types import Answer

SAMPLE_ARCHIVE = Path(__file__).parent / "data" / "sample_archive"


def evidence_html(answer: Answer) -> str:
    """Numbered source cards; every piece of archive text is escaped, so markup shows as text."""
    cards = []
    for c in answer.citations:
        chunk = c.hit.chunk
        badge = "Reader comment" if chunk.kind == "comment" else "Article"
        text = chunk.text
        marked, last = [], 0
        for a, b in c.used_sentences:
            marked += [html.escape(text[last:a]), f"<mark>{html.escape(text[a:b])}</mark>"]
            last = b
        marked.append(html.escape(text[last:]))
        cards.append(
            f'<div class="source {chunk.kind}" id="source-{c.n}"><div class="meta">'
            f'<span class="badge {chunk.kind}">{badge}</span> {html.escape(describe(c))} '
            f'· score {c.hit.score:.3f}</div><p>{"".join(marked)}</p></div>'
        )
    return "\n".join(cards) or "<p>No passages.</p>"


def status_line(pipeline: Pipeline) -> str:
    m = pipeline.index.manifest
    c = m["counts"]
    return (f"**Index:** {c['documents']:,} documents · {c['comments']:,} comments · {c['chunks']:,} chunks · "
            f"built {m['created_at'][:16].replace('T', ' ')} · model `{m['model']['id']}`")


def build_ui(pipeline: Pipeline) -> Any:
    import gradio as gr

    def respond(question: str, history: list[dict[str, str]], include_comments: bool) -> tuple[Any, ...]:
        pipeline.refresh()
        try:
            kinds = ("article", "comment") if include_comments else ("article",)
            answer = pipeline.ask(question, filters=Filters(kinds=kinds))
        except QAError as exc:
            raise gr.Error(str(exc)) from None
        history = [*history, {"role": "user", "content": html.escape(question)},
                   {"role": "assistant", "content": html.escape(answer.text)}]
        return history, evidence_html(answer), ""

    with gr.Blocks(title="Archive QA") as page:
        gr.Markdown("## Archive QA\n" + status_line(pipeline))
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Conversation", height=420, render_markdown=False)
                question = gr.Textbox(label="Question", placeholder="Who controls the crossing?")
                include = gr.Checkbox(value=True, label="Include reader comments")
            with gr.Column(scale=2):
                evidence = gr.HTML(label="Sources")
        question.submit(respond, [question, chat, include], [chat, evidence, question])
    return page


def ensure_index(settings: Settings, archive: Path | None = None) -> None:
    """Build the index from `archive` (default: the bundled sample) when none exists."""
    from qa.store import read_manifest

    try:
        read_manifest(settings.index)
    except IndexNotFound:
        from qa.build import build_index

        source = archive or SAMPLE_ARCHIVE
        print(f"No index at {settings.index}; building one from {source} …", flush=True)
        print(build_index([source], settings, progress=True).summary(), flush=True)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, archive: Path | None = None) -> None:
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    ensure_index(settings, archive)
    pipeline = Pipeline.open(settings)
    page = build_ui(pipeline)
    print(f"Serving Archive QA on http://{host}:{port}", flush=True)
    page.launch(server_name=host, server_port=port, show_error=True, footer_links=[])


def main(argv: list[str] | None = None) -> None:
    """`python app.py`: the same options as `qa serve`."""
    import argparse
    import sys

    from qa.config import load_settings

    parser = argparse.ArgumentParser(prog="app.py", description="Serve the Archive QA chat page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--index", type=Path, help="index folder (default ./index or $QA_INDEX)")
    parser.add_argument("--archive", type=Path, help="archive to index when there is no index yet")
    args = parser.parse_args(argv)
    try:
        settings = load_settings({"index": args.index or os.environ.get("QA_INDEX")})
        serve(settings, args.host, args.port, args.archive)
    except QAError as exc:
        sys.exit(f"Error: {exc}")
