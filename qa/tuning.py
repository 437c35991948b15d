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
    bm25_k1: float = 1.2  # Okapi BM25's usual values, as the hand-written index before bm25s used: chosen,
    bm25_b: float = 0.75  # not swept ("Code shape / Text layer and BM25 on bm25s": same chunks, same values)
    proper_share: float = 0.6  # a term written capitalised at least this often is a name (for spelling
    #                            variants); chosen, not swept ("Retrieval / First-stage levers": name variants)
    variant_weight: float = 0.7  # a name's other spellings count this much when the asked one exists too;
    alias_weight: float = 0.5  # aliases ("Daesh" for "Islamic State") this much: both chosen, checked on
    #                            the archive set only ("A lever aimed at the archive's own questions")
    hnsw_above: int = 200_000  # chunks; below, exact search is fast enough (21 ms per question on 75,162
    #                            vectors): "Scale / The index package … / Approximate search on real embeddings"
    hnsw_search_depth: int = 512  # efSearch: recall@10 0.999 at 0.4 ms on 75,162 real vectors (0.993 at 128),
    #                               0.87 vs 0.67 on the generated million, whose copies crowd the graph: "Scale"
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
    shortlist: int = 12  # sentences embedded per question when an index holds no sentence vectors; chosen,
    #                      not measured (an older index only: the answerer reads stored vectors)
    history: int = 5  # earlier changes listed under a "who holds X" answer; chosen, not measured
    short_words: int = 3  # a question this short, naming nothing, is a follow-up ("Why?"); chosen, not measured
    subject_passages: int = 40  # passages about the subject of a "who holds X" question read for its
    #                             history: "Answers / Fitted answers, state-of-affairs answers and time
    #                             windows" ("40 more passages"); chosen, checked on the dated set, not swept


TUNING = Tuning()
