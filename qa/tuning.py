"""Every fitted or chosen number of the search and reranking stages, in one place.

`Settings` (qa/config.py) holds what a user may set; `Tuning` holds what was chosen by measuring (or,
where said so, chosen without a measure). Each comment names the row of `docs/benchmarks.md` that chose
the number, so a change can be checked against the run that justified it. The reranker's own weights and
the shortest question it fits (`min_terms`) are fitted numbers of another kind: they live in its weights
file, `qa/data/rerank.json`, which records how it was fitted.

Code takes a `Tuning` as an argument (default `TUNING`); a test or a benchmark that varies one number
passes `dataclasses.replace(TUNING, sub_depth=2)` rather than patching a module.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    # Retrieval, first stage
    rrf_k: int = 60  # reciprocal-rank fusion's constant, the usual one; chosen, not measured (RRF itself lost
    #                  to weighted fusion: "Retrieval / First-stage levers", row "reciprocal-rank fusion instead")
    # Reranker candidates
    sub_depth: int = 20  # candidates taken from the head of each outlet or date list; chosen, not measured
    #                      (used since "Reranker / The first reranker": "20 from each outlet and date list")
    expand_docs: int = 12  # leading documents whose every chunk is a candidate: "Reranker / The first
    #                        reranker", row "+ every chunk of the 12 leading documents" (kept; 12 not swept)
    # Reranker features
    part_min_terms: int = 3  # a question part has at least this many analysed terms, else it joins the one
    #                          before; chosen, not measured ("The first reranker", row "+ question parts")
    date_days: float = 3.0  # the `date` feature falls to 1/e this many days from a date the question names;
    #                         chosen, not measured ("The first reranker": the date feature, temporal questions)
    lead_chars: float = 2000.0  # the `lead` feature halves this many characters into an article; chosen,
    #                             not measured ("The first reranker": "the passage's place in the story")
    # Answers
    subject_passages: int = 40  # passages about the subject of a "who holds X" question read for its
    #                             history: "Answers / Fitted answers, state-of-affairs answers and time
    #                             windows" ("40 more passages"); chosen, checked on the dated set, not swept


TUNING = Tuning()
