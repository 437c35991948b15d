"""Attacks on the page's session: a conversation that grows without end, the browser keeping every
question and answer after logout, and files posted to the upload route."""

from __future__ import annotations

import json
from typing import Any

from qa import chat
from qa.pipeline import Pipeline


def _respond(page: Any) -> Any:
    return next(f.fn for f in page.fns.values() if f.api_name == "ask")


def test_a_long_conversation_keeps_its_last_turns_and_resends_only_those(pipeline: Pipeline) -> None:
    from qa.web import build_ui

    respond = _respond(build_ui(pipeline))
    turns: list[chat.Turn] = []
    sizes = []
    for i in range(chat.MAX_TURNS + 6):
        *_, last = respond(f"Who controls the Tal Varesh crossing, question {i}?", turns, True, 5, "", "")
        messages, _, notice, _, turns = last
        sizes.append(len(json.dumps(messages)))
        assert len(turns) == min(i + 1, chat.MAX_TURNS) and len(messages) == 2 * len(turns)
        assert ("keeps its last" in notice) == (i >= chat.MAX_TURNS)
    assert turns[-1].question.endswith(f"question {chat.MAX_TURNS + 5}?")
    assert turns[0].question.endswith("question 6?")  # the six oldest were dropped
    assert max(sizes[chat.MAX_TURNS:]) < 1.1 * sizes[chat.MAX_TURNS - 1]  # what a reply re-sends stops growing
    # the pending reply re-sends no more than the conversation keeps either
    first, *_ = respond("and who held it before that?", turns, True, 5, "", "")
    assert len(first[0]) == 2 * chat.MAX_TURNS


def test_add_keeps_the_newest_turns() -> None:
    turns: list[Any] = list(range(chat.MAX_TURNS))
    kept, dropped = chat.add(turns, "new")  # type: ignore[arg-type]
    assert dropped == 1 and kept[-1] == "new" and kept[0] == 1 and len(kept) == chat.MAX_TURNS
    assert chat.dropped_note(0) == ""
