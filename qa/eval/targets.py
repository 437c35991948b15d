"""The figures the project aims for, in one place. `docs/benchmarks.md` ("Current figures") shows the same
targets beside what was measured, and `eval/run.py` marks each figure of its report that falls short."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

QuestionSet = Literal["archive", "multihop"]
MULTIHOP_TYPES = frozenset({"inference_query", "comparison_query", "temporal_query", "null_query"})


@dataclass(frozen=True)
class Target:
    metric: str  # a field of qa.eval.report.Scores, or "hits@N"
    label: str  # as the report and the docs name it
    op: Literal[">=", "<="]
    value: float
    sets: tuple[QuestionSet, ...] = ("archive", "multihop")
    unit: Literal["", "%", "ms"] = ""

    def met(self, value: float) -> bool:
        return value >= self.value if self.op == ">=" else value <= self.value

    def describe(self) -> str:
        """`Target('recall', 'Recall@10', '>=', 0.75).describe()` -> `'≥ 0.75'`; `'≤ 10%'` for a share in percent."""
        sign = "≥" if self.op == ">=" else "≤"
        if self.unit == "%":
            return f"{sign} {self.value:.0%}"
        return f"{sign} {self.value:g}" + (" ms" if self.unit == "ms" else "")


TARGETS: tuple[Target, ...] = (
    Target("hits@10", "Hits@10", ">=", 0.94, ("multihop",)),
    Target("mrr", "MRR@10", ">=", 0.72, ("multihop",)),
    Target("recall", "Recall@10", ">=", 0.75, ("multihop",)),
    Target("abstention_recall", "abstention recall", ">=", 0.85, ("multihop",)),
    Target("false_abstention", "false abstention", "<=", 0.05, ("multihop",), unit="%"),
    Target("accuracy", "answer accuracy", ">=", 0.98, ("archive",)),
    Target("abstention_recall", "abstention recall", ">=", 0.875, ("archive",)),  # 7 of the archive's 8
    Target("citation_precision", "citation precision", ">=", 0.9, ("archive",)),
    Target("retrieval_p50", "retrieval p50", "<=", 50.0, unit="ms"),
)


def question_set(types: Iterable[str]) -> QuestionSet:
    """MultiHop-RAG's own question types make a MultiHop set; anything else is read as the archive's."""
    found = set(types)
    return "multihop" if found and found <= MULTIHOP_TYPES else "archive"


def targets_for(types: Iterable[str]) -> tuple[Target, ...]:
    kind = question_set(types)
    return tuple(t for t in TARGETS if kind in t.sets)
