"""The Gradio chat page: the pipeline is opened once; handlers call `qa.page.chat` and show `qa.page.render` HTML.

`python app.py` and `qa serve` both end in `serve`. The page binds 127.0.0.1 unless told otherwise,
and asks for a password when QA_USERNAME and QA_PASSWORD are set in the environment.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.errors import ConfigError, IndexNotFound, QAError
from qa.page import chat, export, feedback, render
from qa.page.access import AccessGuard, LoginThrottle, check_exposure, is_loopback
from qa.pipeline import Pipeline

log = logging.getLogger(__name__)
UNEXPECTED = "Something went wrong answering this question; the details are in the server's log."
SAMPLE_ARCHIVE = Path(__file__).parent.parent / "data" / "sample_archive"
MAX_PASSAGES = 10
STATUS_SECONDS = 5  # how often the page's header checks for a rebuild and shows its counts
KIND_CHOICES = ("Articles and reader comments", "Articles only", "Reader comments only")


def warm_up(pipeline: Pipeline) -> threading.Event:
    """Load the model's weights in the background, once; the event is set when it can answer.
    The page opens meanwhile; a question asked before then waits for it."""
    ready = threading.Event()

    def load() -> None:
        start = time.perf_counter()
        try:
            pipeline.embedder.embed_query("warm up")
            print(f"Model {pipeline.embedder.model_id} ready ({time.perf_counter() - start:.1f} s).", flush=True)
        finally:
            ready.set()  # on failure the first question raises the model's own error

    threading.Thread(target=load, name="warm-up", daemon=True).start()
    return ready


def build_ui(pipeline: Pipeline | None, missing: str = "", ready: threading.Event | None = None) -> Any:
    """The page. With no pipeline (no index yet) it shows `missing`, which says how to build one.
    `ready`, when given, is waited for before the first search (see `warm_up`)."""
    import gradio as gr

    span = render.date_span(pipeline.index.days) if pipeline else None
    k_default = pipeline.settings.k if pipeline else 5
    outlet_names = list(pipeline.index.source_names) if pipeline else []

    def respond(question: str, turns: list[chat.Turn], kind: str, k: float, date_from: str, date_to: str,
                outlets: list[str] | None = None, authors: str = "") -> Iterator[tuple[Any, ...]]:
        """Yields the question with a progress line at once, then (from a language model) its text
        as it is written, then the checked answer and its sources."""
        if pipeline is None:
            yield gr.skip(), gr.skip(), render.notice_html(missing), gr.skip(), gr.skip()
            return
        options = chat.Options(kind != KIND_CHOICES[1], int(k or k_default), date_from or None, date_to or None,
                               comments_only=kind == KIND_CHOICES[2], outlets=tuple(outlets or ()),
                               authors=chat.split_names(authors))
        try:
            planned = chat.plan(question, turns, options, pipeline.settings.max_question_chars)
        except QAError as exc:  # empty, too long, a bad date: said on the page, the question stays to fix
            yield gr.skip(), gr.skip(), render.notice_html(str(exc)), gr.skip(), gr.skip()
            return
        except Exception:  # a fault, not the question: one plain line here, the traceback in the log
            log.exception("Planning the question failed")
            yield gr.skip(), gr.skip(), render.notice_html(UNEXPECTED), gr.skip(), gr.skip()
            return
        pending = (planned.rewrite.question, planned.query, planned.scope)
        shown = turns[-(chat.MAX_TURNS - 1):]  # with the pending one, what the conversation keeps
        yield render.messages(shown, pending), gr.skip(), "", "", gr.skip()
        try:
            if ready is not None:
                ready.wait()
            pipeline.refresh()  # a rebuild finished since the last question: switch to it
            for item in chat.answer_stream(pipeline, planned, options.k):
                if isinstance(item, chat.Turn):
                    turn = item
                else:  # a language model writing: its text so far (capped in qa.answer.llm), as plain text
                    yield render.messages(shown, pending, item), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        except QAError as exc:
            yield render.messages(turns), gr.skip(), render.notice_html(str(exc)), question, gr.skip()
            return
        except Exception:  # a fault, not the question: one plain line here, the traceback in the log
            log.exception("Answering the question failed")
            yield render.messages(turns), gr.skip(), render.notice_html(UNEXPECTED), question, gr.skip()
            return
        turns, dropped = chat.add(turns, turn)
        notice_text = render.notice_html(chat.dropped_note(dropped))
        yield render.messages(turns), render.evidence_html(turns, documents(turns)), notice_text, "", turns

    def rate(turns: list[chat.Turn], note: str, liked: Any) -> tuple[Any, ...]:
        """A thumb on an answer (`liked`: Gradio's LikeData): kept with the note in the index folder's feedback file."""
        index = liked.index[0] if isinstance(liked.index, (list, tuple)) else liked.index
        number = int(index) // 2 + 1  # messages alternate question, answer
        if pipeline is None or not isinstance(index, int) or index % 2 != 1 or number > len(turns):
            return render.notice_html("That message is not an answer that can be rated."), gr.skip()
        if liked.liked not in (True, False):  # a thumb taken back: what was kept stays (the file is append-only)
            return render.info_html(f"Rating of Q{number} taken back on the page; the feedback file keeps what "
                                    "was given (rate again to add a new rating)."), gr.skip()
        turn = turns[number - 1]
        try:
            feedback.append(pipeline.settings.index, feedback.rating(turn.answer, turn.question, liked.liked, note))
        except feedback.FeedbackError as exc:
            return render.notice_html(str(exc)), gr.skip()
        return (render.info_html(f"Thanks: your {'thumbs-up' if liked.liked else 'thumbs-down'} on Q{number}"
                                 f"{' and its note' if note.strip() else ''} is kept in the index folder."), "")

    rate.__annotations__["liked"] = gr.LikeData  # how Gradio knows to pass the thumb's event data
    def documents(turns: list[chat.Turn]) -> dict[str, Any]:
        """The documents behind the cards shown, for the whole-document panels of those from files."""
        try:
            return pipeline.index.documents(render.shown_documents(turns)) if pipeline else {}
        except Exception as exc:  # a panel is not worth an answer: the cards go without
            print(f"Could not read the cited documents for their panels: {exc}", file=sys.stderr, flush=True)
            return {}

    def current_status() -> str:
        """The header's counts, from the build a rebuild has made live since the page was loaded."""
        assert pipeline is not None
        pipeline.refresh()
        return render.status_html(pipeline.index.manifest)

    def export_links_for(turns: list[chat.Turn]) -> str:
        """The conversation so far as download links; a line saying there is none yet before an answer."""
        return export.export_html(turns) or render.info_html("Ask a question first: there is nothing to export yet.")

    def reset() -> tuple[Any, ...]:
        return [], render.evidence_html([]), "", "", []

    with gr.Blocks(title="Archive QA") as page:
        with gr.Row(equal_height=False):
            gr.HTML("<h2 style='margin:0'>Archive QA</h2>", padding=False)
            status = gr.HTML(render.notice_html(missing) if missing else "", elem_id="qa-status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Conversation", height=520, render_markdown=False, sanitize_html=True,
                                     elem_id="qa-chat", feedback_options=("Like", "Dislike"), buttons=["copy"],
                                     placeholder="Ask about the archive. Follow-up questions keep the subject.")
                notice = gr.HTML("", elem_id="qa-notice")
                with gr.Row(equal_height=True):
                    question = gr.Textbox(show_label=False, placeholder="Ask a question about the archive",
                                          scale=6, elem_id="qa-question", autofocus=True, submit_btn=False)
                    ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-ask")
                    new_button = gr.Button("New conversation", scale=1, elem_id="qa-new")
                with gr.Row(equal_height=True):
                    note = gr.Textbox(show_label=False, max_lines=2, elem_id="qa-feedback-note", scale=6,
                                      max_length=feedback.MAX_NOTE_CHARS,
                                      placeholder="Optional note to send with a thumbs-up or thumbs-down on an answer")
                    export_button = gr.Button("Export conversation", scale=1, elem_id="qa-export")
                export_links = gr.HTML("", elem_id="qa-export-links")
                kind = gr.Radio(list(KIND_CHOICES), value=KIND_CHOICES[0], label="Search", elem_id="qa-kind")
                with gr.Row(equal_height=True):
                    k = gr.Slider(1, MAX_PASSAGES, value=k_default, step=1, label="Passages", elem_id="qa-k")
                    date_from = gr.Textbox(label="From (YYYY-MM-DD)", placeholder=span[0] if span else "",
                                           visible=span is not None, elem_id="qa-from")
                    date_to = gr.Textbox(label="To (YYYY-MM-DD)", placeholder=span[1] if span else "",
                                         visible=span is not None, elem_id="qa-to")
                with gr.Row(equal_height=True):
                    outlets = gr.Dropdown(outlet_names, value=[], multiselect=True, label="Outlets (none: all)",
                                          visible=bool(outlet_names), elem_id="qa-outlets")
                    authors = gr.Textbox("", label="Authors or commenters (comma-separated; empty: all)",
                                         elem_id="qa-authors")
            with gr.Column(scale=2):
                evidence = gr.HTML(render.evidence_html([]), elem_id="qa-evidence")
        turns = gr.State([])

        asked = gr.on([question.submit, ask_button.click], respond,
                      [question, turns, kind, k, date_from, date_to, outlets, authors],
                      [chatbot, evidence, notice, question, turns], api_name="ask", show_progress="minimal")
        cleared = [chatbot, evidence, notice, question, turns]
        asked.then(lambda: "", None, export_links, api_visibility="private", show_progress="hidden")
        new_button.click(reset, None, cleared, api_name="new_conversation").then(
            lambda: "", None, export_links, api_visibility="private", show_progress="hidden")
        chatbot.clear(reset, None, cleared, api_visibility="private").then(  # the chat's own bin icon
            lambda: "", None, export_links, api_visibility="private", show_progress="hidden")
        export_button.click(export_links_for, turns, export_links, api_visibility="private")
        chatbot.like(rate, [turns, note], [notice, note], api_visibility="private", show_progress="hidden")
        if pipeline is not None:
            page.load(current_status, None, status, api_visibility="private")
            gr.Timer(STATUS_SECONDS).tick(current_status, None, status, api_visibility="private",
                                          show_progress="hidden", queue=False)
    return page


def ensure_index(settings: Settings, archive: Path | None, default_index: bool) -> str:
    """Make the index serve `archive` (see `qa.build.prepare_index`; the bundled sample is built
    into the default folder only), saying on stdout what it did. Returns "" when an index is
    there, else what to run to make one."""
    from qa.build import prepare_index

    try:
        prepare_index(settings, archive, SAMPLE_ARCHIVE if default_index else None, _say)
    except IndexNotFound as exc:
        return (f"{str(exc).rstrip('.')}. Or start the page with --archive PATH to index an archive first "
                f"(the bundled sample: --archive {SAMPLE_ARCHIVE}).")
    return ""


def _say(line: str) -> None:
    """The server's report of what it does, on its standard output as the CLI's."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def check_port(host: str, port: int) -> None:
    """Refuse a port something else listens on, before anything is loaded, with what to pass instead."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortBusy(host, port, exc.strerror or str(exc)) from None


class PortBusy(QAError):
    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"Cannot serve on {host}:{port} ({reason.lower()}). Pick another port: "
                         f"qa serve --port {port + 1}, python app.py --port {port + 1}, or make run PORT={port + 1}.")


class NoUploads:
    """ASGI middleware: the page has no file input, so Gradio's upload route is refused (403) before
    any of a request's body is read or kept on disk; other requests pass through."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path", "").rstrip("/").endswith("/upload"):
            body = b"This page takes no uploads."
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def credentials(env: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(user, password) from QA_USERNAME and QA_PASSWORD, both or neither."""
    env = dict(os.environ) if env is None else env
    user, password = env.get("QA_USERNAME", ""), env.get("QA_PASSWORD", "")
    if bool(user) != bool(password):
        raise ConfigError("Set both QA_USERNAME and QA_PASSWORD to ask for a login, or neither.")
    if user and (not user.strip() or not password.strip()):
        raise ConfigError("QA_USERNAME and QA_PASSWORD must not be only spaces; set a real name and password.")
    return (user.strip(), password) if user else None


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, archive: Path | None = None,
          default_index: bool = False, block: bool = True, public_without_login: bool = False) -> Any:
    """Open the index and the model once and serve the page; the model's weights load while the page
    starts. With `block` False it returns the running page (`page.close()` stops it). Beyond loopback
    it needs a login (QA_USERNAME, QA_PASSWORD) unless `public_without_login`.

    Up to `settings.concurrency` questions are answered at once; they share the index and the model,
    which are only read (the caches they keep take a lock)."""
    from starlette.middleware import Middleware

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    auth = credentials()
    check_exposure(host, auth is not None, public_without_login)
    check_port(host, port)
    missing = ensure_index(settings, archive, default_index)
    pipeline, ready = None, None
    if missing:
        print(f"Warning: {missing}", file=sys.stderr, flush=True)
    else:
        pipeline = Pipeline.open(settings)
        ready = warm_up(pipeline)
    if not is_loopback(host) and auth is None:
        print(f"Warning: serving on {host} without a login (--public-without-login).", file=sys.stderr, flush=True)
    page = build_ui(pipeline, missing, ready)
    page.queue(default_concurrency_limit=settings.concurrency)
    guard = Middleware(AccessGuard, throttle=LoginThrottle(), protect=auth is not None,  # type: ignore[arg-type]
                       users=(auth[0],) if auth else ())
    try:
        # run_history=False: Gradio keeps no questions and answers in the browser (and deletes any it kept);
        # uploads are refused by NoUploads, and capped at a few KB should a route slip past it.
        page.launch(server_name=host, server_port=port, auth=auth, show_error=True, footer_links=[],
                    css=render.CSS, head=render.HEAD, prevent_thread_lock=True, quiet=True,
                    run_history=False, max_file_size="4kb",
                    app_kwargs={"openapi_url": None, "docs_url": None, "redoc_url": None,
                                "middleware": [Middleware(NoUploads), guard]})
    except OSError as exc:  # taken between the check and the launch
        raise PortBusy(host, port, "in use") from exc
    print(f"Archive QA: serving {settings.index} on http://{host}:{port}", flush=True)
    if block:
        page.block_thread()
    return page


def main(argv: list[str] | None = None) -> None:
    """`python app.py`: the same options as `qa serve`."""
    import argparse

    from qa.config import config_path, load_settings

    parser = argparse.ArgumentParser(prog="app.py", description="Serve the Archive QA chat page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--index", type=Path, help="index folder (default ./index or $QA_INDEX)")
    parser.add_argument("--model", help="embedding model the index was built with (default: packaged MiniLM)")
    parser.add_argument("--archive", type=Path, help="archive to index when there is no index yet")
    parser.add_argument("--public-without-login", action="store_true",
                        help="allow a non-loopback --host without QA_USERNAME/QA_PASSWORD")
    args = parser.parse_args(argv)
    try:
        if (path := config_path()) is not None:  # said before anything is read or sent
            print(f"Settings from {path}", file=sys.stderr, flush=True)
        settings = load_settings({"index": args.index, "model": args.model})
        default_index = args.index is None and settings.index == Settings().index
        serve(settings, args.host, args.port, args.archive, default_index,
              public_without_login=args.public_without_login)
    except QAError as exc:
        sys.exit(f"Error: {exc}")
    except OSError as exc:  # a port in use, a folder that cannot be written
        from qa.errors import describe_os_error

        sys.exit(f"Error: {describe_os_error(exc)}")
