"""Check the domain sets (held out, or written apart and since used for development) against their archives.

    python eval/domain/check_sets.py [--sets eval/domain/sets.json] [--skip-missing]

For every set in `sets.json` (a JSON list of {"name", "archive", "questions", "held_out"}) the
archive is read with the product's own readers (`qa.ingest`), and every question line is checked:
the fields and their vocabulary, ids unique across all sets, unanswerable lines with no answers and
no evidence, each evidence `doc` an exact document title, each `quote` a verbatim span of that
document's article text (or of one of its comments when `kind` is "comment"), each name-like gold
answer written somewhere in the quoted documents, and at least a fifth of each set unanswerable.
`timelines.jsonl` and `disagreements.jsonl` beside a question file are checked the same way.
Exit status 0 when every check holds; otherwise each problem is printed as `FILE:LINE: reason`.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from qa.dates import parse_date  # noqa: E402
from qa.eval.questions import parse_question  # noqa: E402
from qa.ingest import Skipped, iter_documents  # noqa: E402

TYPES = {"factual", "temporal", "current_state", "history", "comment", "author", "unanswerable"}
ANSWER_TYPES = {"person", "organisation", "place", "outlet", "date", "number", "title", "weapon", "holder",
                "description", "yes_no", "comment", "none"}
KINDS = {"article", "comment"}
REQUIRED = ("id", "question", "answers", "evidence", "type", "answer_type")
OPTIONAL = ("kind", "from", "to", "note")  # note: why the gold is the gold (which of disagreeing figures)
# Gold answers of these types are names or figures: one of them must be written in the quoted documents.
NAMED = {"person", "organisation", "place", "outlet", "number", "title", "weapon", "holder"}
MIN_UNANSWERABLE = 0.2
TIMELINE_TYPES = {"timeline", "period"}


@dataclass
class Archive:
    """Documents by exact title: the article text and the texts of the comments."""

    bodies: dict[str, str] = field(default_factory=dict)
    comments: dict[str, list[str]] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)  # the author and the commenters

    def text(self, title: str) -> str:
        return "\n".join([self.bodies[title], *self.comments[title], *self.names[title]])


def load_archive(path: Path, problems: list[str]) -> Archive:
    skipped: list[Skipped] = []
    archive = Archive()
    for doc in iter_documents([path], skipped):
        if doc.title in archive.bodies:
            problems.append(f"{path}: two documents share the title {doc.title!r}")
        archive.bodies[doc.title] = doc.body
        archive.comments[doc.title] = [c.text for c in doc.comments]
        archive.names[doc.title] = [n for n in (doc.author, *(c.author for c in doc.comments)) if n]
    problems.extend(f"{s.path}: not read ({s.reason})" for s in skipped)
    return archive


def check_quote(archive: Archive, item: object, comment: bool | None, where: str) -> str | None:
    """The problem with one {"doc", "quote"} item, or None."""
    if not isinstance(item, dict) or set(item) != {"doc", "quote"}:
        return f"{where}: evidence must be an object with exactly 'doc' and 'quote'"
    doc, quote = item["doc"], item["quote"]
    if not isinstance(doc, str) or not isinstance(quote, str) or not quote.strip():
        return f"{where}: 'doc' and 'quote' must be non-empty text"
    if doc not in archive.bodies:
        return f"{where}: no document titled {doc!r}"
    in_body = quote in archive.bodies[doc]
    in_comment = any(quote in c for c in archive.comments[doc])
    if comment is True and not in_comment:
        return f"{where}: quote not in any comment of {doc!r}: {quote!r}"
    if comment is False and not in_body:
        return f"{where}: quote not in the article text of {doc!r}: {quote!r}"
    if not (in_body or in_comment):
        return f"{where}: quote not in {doc!r}: {quote!r}"
    return None


def check_question(record: object, archive: Archive, where: str) -> list[str]:
    if not isinstance(record, dict):
        return [f"{where}: expected a JSON object"]
    problems = []
    missing = [f for f in REQUIRED if f not in record]
    unknown = sorted(set(record) - set(REQUIRED) - set(OPTIONAL))
    if missing:
        return [f"{where}: missing field {missing[0]!r}"]
    if unknown:
        problems.append(f"{where}: unknown field {unknown[0]!r}")
    try:  # the project's own loader must accept the line (it does not know answer_type)
        parse_question({k: v for k, v in record.items() if k != "answer_type"})
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
        return problems
    answers, evidence, qtype, atype = record["answers"], record["evidence"], record["type"], record["answer_type"]
    kind = record.get("kind")
    if qtype not in TYPES:
        problems.append(f"{where}: type {qtype!r} is not one of {sorted(TYPES)}")
    if atype not in ANSWER_TYPES:
        problems.append(f"{where}: answer_type {atype!r} is not one of {sorted(ANSWER_TYPES)}")
    if kind is not None and kind not in KINDS:
        problems.append(f"{where}: kind {kind!r} is not one of {sorted(KINDS)}")
    if not answers:
        if evidence or qtype != "unanswerable" or atype != "none":
            problems.append(f"{where}: an unanswerable question has no evidence, type 'unanswerable', "
                            "answer_type 'none'")
        return problems
    if qtype == "unanswerable" or atype == "none":
        problems.append(f"{where}: a question with answers cannot be typed unanswerable/none")
    if not evidence:
        problems.append(f"{where}: an answerable question needs evidence")
    if kind is None:
        problems.append(f"{where}: an answerable question needs 'kind' (article or comment)")
    in_comment = {"comment": True, "article": False}.get(kind)
    for i, item in enumerate(evidence, start=1):
        if problem := check_quote(archive, item, in_comment, f"{where}: evidence {i}"):
            problems.append(problem)
    if atype in NAMED and not problems:
        text = "\n".join(archive.text(e["doc"]) for e in evidence).lower()
        if not any(a.lower() in text for a in answers):
            problems.append(f"{where}: none of the answers {answers} is written in the quoted documents")
    if atype == "date" and not problems:  # a full date, or the date as the document writes it ("Nov. 25")
        text = "\n".join(archive.text(e["doc"]) for e in evidence)
        if not any(parse_date(a) or a in text for a in answers):
            problems.append(f"{where}: no answer of a date question reads as a date: {answers}")
    return problems


def read_lines(path: Path, problems: list[str]) -> list[tuple[str, object]]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            out.append((where, json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg})")
    return out


def check_timelines(path: Path, archive: Archive, ids: dict[str, str], problems: list[str]) -> None:
    for where, record in read_lines(path, problems):
        if not isinstance(record, dict) or set(record) != {"id", "question", "events", "type"}:
            problems.append(f"{where}: expected exactly id, question, events, type")
            continue
        if record["id"] in ids:
            problems.append(f"{where}: id {record['id']!r} already used at {ids[record['id']]}")
        ids[record["id"]] = where
        if record["type"] not in TIMELINE_TYPES:
            problems.append(f"{where}: type must be one of {sorted(TIMELINE_TYPES)}")
        events = record["events"]
        if not isinstance(events, list) or len(events) < 2:
            problems.append(f"{where}: a timeline needs at least two events")
            continue
        dates = []
        for i, event in enumerate(events, start=1):
            if not isinstance(event, dict) or set(event) != {"date", "doc", "quote"}:
                problems.append(f"{where}: event {i} must have exactly date, doc, quote")
                continue
            if parse_date(event["date"]) != event["date"]:
                problems.append(f"{where}: event {i} date {event['date']!r} is not YYYY-MM-DD")
            dates.append(event["date"])
            quote = {"doc": event["doc"], "quote": event["quote"]}
            if problem := check_quote(archive, quote, None, f"{where}: event {i}"):
                problems.append(problem)
        if dates != sorted(dates):
            problems.append(f"{where}: events are not in date order")


def check_disagreements(path: Path, archive: Archive, ids: dict[str, str], problems: list[str]) -> None:
    for where, record in read_lines(path, problems):
        if not isinstance(record, dict) or set(record) != {"id", "subject", "pairs"}:
            problems.append(f"{where}: expected exactly id, subject, pairs")
            continue
        if record["id"] in ids:
            problems.append(f"{where}: id {record['id']!r} already used at {ids[record['id']]}")
        ids[record["id"]] = where
        pairs = record["pairs"]
        if not isinstance(pairs, list) or not pairs:
            problems.append(f"{where}: 'pairs' must be a non-empty list")
            continue
        for i, pair in enumerate(pairs, start=1):
            if not isinstance(pair, list) or len(pair) != 2:
                problems.append(f"{where}: pair {i} must be a list of two {{doc, quote}} objects")
                continue
            if pair[0] == pair[1]:
                problems.append(f"{where}: pair {i} sets a quote against itself")
            for j, item in enumerate(pair, start=1):
                if problem := check_quote(archive, item, None, f"{where}: pair {i} side {j}"):
                    problems.append(problem)


def check_sets(sets_path: Path, skip_missing: bool = False) -> tuple[list[str], dict[str, int]]:
    """All problems in the sets listed in `sets_path`, and the number of questions per set checked."""
    problems: list[str] = []
    counts: dict[str, int] = {}
    try:
        sets = json.loads(sets_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{sets_path}: cannot read ({exc})"], counts
    if not isinstance(sets, list) or not sets:
        return [f"{sets_path}: expected a non-empty JSON list of sets"], counts
    ids: dict[str, str] = {}
    names: set[str] = set()
    for entry in sets:
        if not isinstance(entry, dict) or not {"name", "archive", "questions", "held_out"} <= set(entry):
            problems.append(f"{sets_path}: each set needs name, archive, questions, held_out")
            continue
        if entry["name"] in names:
            problems.append(f"{sets_path}: set name {entry['name']!r} used twice")
        names.add(entry["name"])
        if not entry["held_out"] and not str(entry["questions"]).startswith("eval/domain/"):
            continue  # the project's older sets predate `answer_type`; eval/run.py reads them as they are
        archive_path, questions_path = ROOT / entry["archive"], ROOT / entry["questions"]
        if not archive_path.exists():
            if not skip_missing:
                problems.append(f"{sets_path}: archive {entry['archive']} of set {entry['name']!r} is missing")
            continue
        if not questions_path.exists():
            problems.append(f"{sets_path}: question file {entry['questions']} is missing")
            continue
        archive = load_archive(archive_path, problems)
        lines = read_lines(questions_path, problems)
        for where, record in lines:
            problems.extend(check_question(record, archive, where))
            if isinstance(record, dict) and isinstance(record.get("id"), str):
                if record["id"] in ids:
                    problems.append(f"{where}: id {record['id']!r} already used at {ids[record['id']]}")
                ids[record["id"]] = where
        counts[entry["name"]] = len(lines)
        unanswerable = sum(1 for _, r in lines if isinstance(r, dict) and r.get("answers") == [])
        if lines and unanswerable / len(lines) < MIN_UNANSWERABLE:
            problems.append(f"{questions_path}: only {unanswerable} of {len(lines)} questions are unanswerable "
                            f"(at least {MIN_UNANSWERABLE:.0%} wanted)")
        for extra, check in (("timelines.jsonl", check_timelines), ("disagreements.jsonl", check_disagreements)):
            if (path := questions_path.parent / extra).exists():
                check(path, archive, ids, problems)
    return problems, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", type=Path, default=ROOT / "eval/domain/sets.json")
    parser.add_argument("--skip-missing", action="store_true", help="skip sets whose archive folder is absent")
    args = parser.parse_args(argv)
    problems, counts = check_sets(args.sets, args.skip_missing)
    for problem in problems:
        print(problem)
    print(", ".join(f"{name}: {n} questions" for name, n in counts.items()) or "no sets checked")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
