"""The shortcuts that make a timeline over many reports fast give what the slow forms give: the holder search tried
only where a holder can start, the prefilters before the control-event and date patterns, each passage's words read
in one pass, and the merge that compares a report only with the events that can match it. Pure."""

from __future__ import annotations

import random

import pytest

from qa.answer import events as ev
from qa.answer import timeline as tl
from qa.dates import _DATE_DMY, _DATE_ISO, _DATE_MDY, mentioned_dates
from qa.text import analyze
from tests.test_events import hit

SENTENCES = [
    "QARAVEL, Dessa, Feb 3 (Northgate Wire) - Fighters of the Free Coast Movement (FCM) seized the market town of "
    "Tesk on Sunday after two days of street fighting, residents said.",
    "The army, which had held the bridge since May, said its troops now control the crossing and still hold the "
    "old customs post; militants, officials said, retook it.",
    "Government forces repelled an attack and remain in control of the town, a spokesman said.",
    "“We have seized nothing,” he said: the rebels took back control of the port, and the Brigades overran Velna.",
    "A convoy of lorries crossed, then the guards, reportedly, continued to hold the line near it as militias "
    "captured the hill and took over the depot.",
    "The port is secure and under the control of the 4th Coastal Brigade, army spokesman Colonel Idris Makaro said.",
    "Ostra remains under the Ostra Municipal Council, which handed the school over to the ministry on Monday.",
]


def _words(rng: random.Random) -> str:
    vocab = ("the rebels army , ; : “ ” \" now still then seized captured retook took control of over holds hold "
             "controls remain remains in was were has had recaptured it them town Ostra Brigades forces also "
             "continue to and Tesk\n").split(" ")
    return " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 40)))


def test_holder_search_finds_what_the_whole_search_finds() -> None:
    rng = random.Random(3)
    texts = SENTENCES + [_words(rng) for _ in range(3000)]
    for text in texts:
        for _ in range(4):
            pos = rng.randint(0, len(text))
            end = rng.randint(pos, len(text))
            slow, fast = tl._ACTIVE.search(text, pos, end), tl._search_active(text, pos, end)
            assert (slow and (slow.span(), slow.groupdict())) == (fast and (fast.span(), fast.groupdict())), text


def test_control_events_prefilters_keep_every_event() -> None:
    for text in SENTENCES:
        assert ev.may_change_hands(text) == (ev._HANDS_WORDS.search(text) is not None)
    assert not ev.may_change_hands("Traders said the price of bread rose again.")
    held = tl.control_events("Ostra remains under the Ostra Municipal Council, officials said.", "2025-03-01")
    assert [e.holder for e in held] == ["the Ostra Municipal Council"]
    given = tl.control_events("Government troops handed the bridge over to the civil council on Monday.",
                              "2025-03-05")
    assert [(e.holder, e.on) for e in given] == [("the civil council", "2025-03-03")]


@pytest.mark.parametrize("text", ["Rebels took Tesk on March 3.", "It fell on 2025-03-04, and 5 Apr 2024.",
                                  "Filed on March 14, 2024 at 10:00", "No year in 12 34 567."])
def test_mentioned_dates_without_a_year_is_quick_and_the_same(text: str) -> None:
    found = []
    for pattern in (_DATE_MDY, _DATE_DMY, _DATE_ISO):
        found += [m.start() for m in pattern.finditer(text)]
    assert bool(mentioned_dates(text)) == bool(found)


def test_passage_words_read_in_one_pass_are_each_sentences_words() -> None:
    text = " ".join(SENTENCES) + "\nCafé owners in Tésk said so. Ｆｕｌｌ width."
    for body in (" ".join(SENTENCES), text):
        h = hit("Tesk report", "2025-02-03", body)
        memo: ev.Memo = {}
        whole = ev._words(f"{h.chunk.title} {body}", h.chunk, -1, memo)
        assert whole == set(analyze(f"{h.chunk.title} {body}"))
        for a, b in ev.sentences_of(h.chunk, memo):
            assert memo[("words", h.chunk.chunk_id, a)] == set(analyze(body[a:b]))


def _merge_every_pair(reports: list[ev.Report], hits: list) -> list[list[ev.Report]]:
    """`merge` as it was written first: each report compared with every event before it."""
    holders = list(dict.fromkeys(r.holder for r in reports if r.holder))
    group_of = dict(zip(holders, tl.holder_groups(holders)))
    order = sorted(range(len(reports)), key=lambda i: (not reports[i].explicit, ev.ordinal(reports[i].day) or 10**9,
                                                       ev.ordinal(hits[reports[i].hit].chunk.published_at), i))
    events: list[list[ev.Report]] = []
    for i in order:
        r = reports[i]
        k = next((k for k, e in enumerate(events) if ev._same(e[0], r, ev._terms(e[0]), ev._terms(r), group_of)),
                 None)
        if k is None:
            events.append([r])
        else:
            events[k].append(r)
    return events


def test_merge_compares_only_what_can_match_and_merges_the_same() -> None:
    rng = random.Random(5)
    words = "rebels army seized held town bridge port tesk velna fighting shelled convoy talks truce".split()
    days = ["2025-02-02", "2025-02-03", "2025-03-01", None]
    reports, hits = [], []
    for i in range(300):
        clause = " ".join(rng.choice(words) for _ in range(rng.randint(0, 9)))
        day = rng.choice(days)
        hits.append(hit(f"Report {i}", "2025-03-05", clause or "x"))
        reports.append(ev.Report(i, 0, len(clause), day, day is not None and rng.random() < 0.5, clause,
                                 rng.choice([None, "the rebels", "the army", "Rebel fighters"])))
    fast = sorted(tuple(r.hit for r in e.reports) for e in ev.merge(reports, hits))
    slow = sorted(tuple(r.hit for r in e) for e in _merge_every_pair(reports, hits))
    assert fast == slow
    assert len(fast) < len(reports)  # some did merge
