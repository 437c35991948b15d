"""The extractive answerer and citation helpers, on hand-made hits (hash embedder, no model)."""

from __future__ import annotations

from qa.answer.cite import citation_record, markers, markers_valid, render_references
from qa.answer.extractive import ExtractiveAnswerer, candidate_sentences
from qa.embed.models import HashEmbedder
from qa.types import Citation
from tests.conftest import make_hit

hit = make_hit


HITS = [
    hit(1, "The weather was fine. The Grey Hand militia now controls the Tal Ossa crossing after a raid."),
    hit(2, "“The hotel will make a fine command post.” Does it have a pool?", "comment", "joker", 3),
    hit(3, "Trucks queue at the border. The hotel will make a fine command post.", "comment", "insider", 1),
]


def test_answer_quotes_the_best_sentence_with_a_valid_marker() -> None:
    answer = ExtractiveAnswerer(HashEmbedder()).answer("Which militia raided the Tal Ossa crossing?", HITS)
    assert not answer.abstained
    assert "Grey Hand militia now controls the Tal Ossa crossing" in answer.text
    # the short answer first, from the quoted sentence: the group beside the predicate ("a raid")
    assert answer.text.startswith("Grey Hand militia [1].") and answer.direct == "Grey Hand militia"
    assert set(markers(answer.text)) == {1} and markers_valid(answer.text, answer.citations)
    assert [c.n for c in answer.citations] == [1, 2, 3]
    used = answer.citations[0].used_sentences
    assert used and HITS[0].chunk.text[used[0][0]:used[0][1]].startswith("The Grey Hand")
    assert answer.citations[1].used_sentences == ()


def test_a_quoted_sentence_is_credited_to_its_original_author() -> None:
    sentences = candidate_sentences(HITS, passages=3)
    owners = [HITS[s.hit].chunk.author for s in sentences if "command post" in s.text]
    assert owners == ["insider"]
    question = "Which commenter said the hotel will make a fine command post?"
    answer = ExtractiveAnswerer(HashEmbedder()).answer(question, HITS)
    assert answer.text.startswith("Reader comment by insider:") and markers(answer.text) == [3]


def test_abstains_when_nothing_relevant_and_still_lists_passages() -> None:
    answer = ExtractiveAnswerer(HashEmbedder()).answer("What is the price of saffron in Lisbon?", HITS)
    assert answer.abstained and answer.text.startswith("The archive does not say")
    assert len(answer.citations) == 3 and markers(answer.text) == []
    empty = ExtractiveAnswerer(HashEmbedder()).answer("Anything?", [])
    assert empty.abstained and empty.citations == ()


def test_marker_helpers() -> None:
    cites = [Citation(1, HITS[0]), Citation(2, HITS[1])]
    assert markers("A [1]. B [2][1].") == [1, 2, 1]
    assert markers_valid("A [1] B [2]", cites) and not markers_valid("A [3]", cites)
    record = citation_record(cites[1])
    assert record["kind"] == "comment" and record["author"] == "joker" and record["source"] == "page.txt"
    text = render_references(cites)
    assert "[2] Reader comment by joker on “Border report” · 9 Mar 2024" in text
    assert "[1] Article “Border report”" in text


def test_intent_worked_examples() -> None:
    from qa.answer.intent import read_intent

    assert read_intent("Who wrote the article on Al Qaim?").author
    assert not read_intent("Who wrote the comment about bunkers?").author
    assert read_intent("What did readers say about the hotel?").comments
    assert read_intent("Who controls the crossing now?").recent
    assert read_intent("On what date did the militia take the crossing?").expects == "time"
    assert read_intent("According to the report, when did it fall?").expects == "time"
    assert read_intent("How many guards were killed?").expects == "number"
    assert read_intent("Who controls the crossing?").expects is None
    assert read_intent("Did it change its advice, when it later advised against him?").expects is None
    assert read_intent("Since when have they held Fallujah?").expects == "time"
    when = read_intent("When did it fall?")
    assert when.fits("It fell on Dec. 23.") and when.fits("It fell last week.") and not when.fits("It fell.")
    assert read_intent("How far is it?").fits("just 30 miles") and not read_intent("How many died?").fits("Many died.")
    ypg = read_intent("On what date did the Kurdish YPG take the Rabia crossing?")
    assert ypg.names == {"kurdish", "ypg", "rabia"}
    assert ypg.fits("The YPG took Rabia on Oct. 2.") and not ypg.fits("Al Walid fell on June 22, 2014.")


def test_a_when_or_how_many_question_is_answered_only_by_a_sentence_holding_one() -> None:
    hits = [hit(1, "The Grey Hand militia took the Tal Ossa crossing after a long raid."),
            hit(2, "Guards fled the Tal Ossa crossing on Dec. 23, before the raid ended.", doc="d2")]
    answerer = ExtractiveAnswerer(HashEmbedder())
    assert markers(answerer.answer("Did the Grey Hand militia take the Tal Ossa crossing?", hits).text) == [1]
    when = answerer.answer("When did the Grey Hand militia take the Tal Ossa crossing?", hits)
    assert when.abstained  # a date, but of the guards' flight: not an answer
    dated = hits + [hit(3, "The Grey Hand militia seized the Tal Ossa crossing on Dec. 24 after the raid.", doc="d3")]
    when = answerer.answer("When did the Grey Hand militia take the Tal Ossa crossing?", dated)
    assert not when.abstained and "Dec. 24" in when.text and 3 in markers(when.text)
    many = answerer.answer("How many guards did the Grey Hand militia kill at the Tal Ossa crossing?", hits[:1])
    assert many.abstained and len(many.citations) == 1


def test_context_adds_the_introducing_line_and_a_neighbour_with_missing_terms() -> None:
    from qa.answer.extractive import with_context
    from qa.answer.picker import Candidate as Sentence

    text = "The town fell. From Reuters:\nFighters seized the post at dawn. Map created by The Ledger."
    hits = [hit(1, text)]
    seized = text.index("Fighters")
    picked = [Sentence(0, seized, text.index(" Map"), "Fighters seized the post at dawn.", False)]
    out = with_context("Who made the map of the post the fighters seized?", hits, picked, limit=3)
    assert sorted(text[s.start:s.end] for s in out) == [
        "Fighters seized the post at dawn.", "From Reuters:", "Map created by The Ledger."]
    assert len(with_context("Who seized the post?", hits, picked, limit=1)) == 1


def test_a_question_about_readers_also_quotes_a_sentence_saying_what_the_best_one_lacks() -> None:
    import numpy as np

    from qa.answer.extractive import still_missing
    from qa.answer.picker import Candidate as Sentence

    said = [Sentence(0, 0, 60, "Its my understanding that their military wing is led by a former officer.", False),
            Sentence(0, 61, 90, "I read it in a report last year.", False),
            Sentence(0, 91, 150, "Its like watching Gale Sayers or Barry Sanders run a football.", False),
            Sentence(0, 151, 200, "Watching football is a great pleasure for everyone here.", False)]
    question = "Which football players did a commenter compare the military wing to?"
    logits = np.array([0.0, -0.5, -1.0, -9.0])
    assert [s.text[:21] for s in still_missing(question, said, logits, said[:1], 4.0)] == ["Its like watching Gal"]
    assert still_missing(question, said, logits, said[:1], 0.5) == []  # beyond the margin: not quoted
    assert still_missing(question, said, logits, said[:3], 4.0) == []  # "football" already said
