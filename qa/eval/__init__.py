"""Evaluation: question sets (`questions`), pure metrics (`metrics`), running them (`outcomes`,
`runner`) and reports (`report`). See eval/README.md for the format and the commands."""

from qa.eval.outcomes import Outcome, evaluate, evaluate_question
from qa.eval.questions import (
    Evidence,
    Question,
    QuestionSetError,
    load_questions,
    multihop_questions,
    write_questions,
)
from qa.eval.report import Flip, Scores, flips, load_run, render_flips, render_markdown, summarise
from qa.eval.runner import EvalRun, default_json_path, run_eval

__all__ = [
    "EvalRun", "Evidence", "Flip", "Outcome", "Question", "QuestionSetError", "Scores", "default_json_path",
    "evaluate", "evaluate_question", "flips", "load_questions", "load_run", "multihop_questions",
    "render_flips", "render_markdown", "run_eval", "summarise", "write_questions",
]
