"""The answer layer: from the passages a search returned to an answer whose sentences carry `[n]`.

It owns reading the question (`intent`, `verify`, `followup` for follow-up questions), the extractive answerer
(`extractive`: picking and wording; `picker`: the fitted sentence and abstention models; `span` and
`reader`: the short answer a question asks for; `gate`: whether it is given), answers about who holds a
place (`timeline`, `state`), answers about many reports — timelines, periods, disagreements, what readers said
(`events`, `claims`, `digest`) —, citations (`cite`), and the language-model answerer with its HTTP endpoint (`llm`,
`endpoint`). It may import the embedders (`qa.embed`) and the shared modules at the top of `qa`
(`types`, `text`, `dates`, `tuning`, `config`, `errors`, `aliases` …), never search, the pipeline
or the page. Code outside this package imports only the names below, not its modules.
"""

from qa.answer.cite import (
    MARKER,
    answer_markers,
    answer_marks,
    citation_record,
    hit_record,
    markers_valid,
    render_references,
)
from qa.answer.digest import answer_topic, with_holder_disagreements, with_toll_disagreements
from qa.answer.endpoint import LLMError
from qa.answer.events import read_topic
from qa.answer.extractive import ABSTAIN, Answerer, ExtractiveAnswerer, abstention, prefixed
from qa.answer.followup import Rewrite, rewrite
from qa.answer.llm import LLMAnswerer
from qa.answer.state import answer_state
from qa.answer.timeline import StateQuestion, holder_groups, read_state_question

__all__ = [
    "ABSTAIN",
    "MARKER",
    "Answerer",
    "ExtractiveAnswerer",
    "LLMAnswerer",
    "LLMError",
    "Rewrite",
    "StateQuestion",
    "abstention",
    "answer_markers",
    "answer_marks",
    "answer_state",
    "answer_topic",
    "citation_record",
    "hit_record",
    "holder_groups",
    "markers_valid",
    "prefixed",
    "read_state_question",
    "read_topic",
    "render_references",
    "rewrite",
    "with_holder_disagreements",
    "with_toll_disagreements",
]
