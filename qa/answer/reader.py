"""The typed reader: the short answer a question asks for, read from the one sentence that states it.

A direct answer ("Reuters [1].") is what people read first, so it is given only when it is right.
The reader

1. types the question from its wording (`expect`): a person, an organisation or armed group, a
   place, a news agency or outlet, a ship or weapon, a date or a number; anything else ("why …",
   "what happened …") gets no direct answer;
2. finds the question's predicate, the word that ties the answer to what was asked ("reported",
   "quoted", "leads", "media adviser"), and the names the question gives;
3. takes candidates only from a sentence that says the predicate and most of the question's terms,
   only of the expected type, never a phrase the question already names, and only near the predicate
   in the same clause ("Reuters reported that …", "Iron Dawn's leader, Tal Varesh, …");
4. answers only when one candidate is clearly best. No lead is better than a wrong one: when two
   candidates tie, or no sentence says the predicate, the answer leads with the sentence instead.

Pure and model-free: it reads words, not mention counts. `leading_sentence` picks the sentence an
answer should open with when no direct answer is given.

    >>> expect("Which news agency quoted an Iraqi official?").kind
    'outlet'
    >>> read("Which news agency quoted an Iraqi official?",
    ...      ["AFP quoted an Iraqi official as saying the post had fallen."]).text
    'AFP'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from qa.dates import MONTH_PATTERN, parse_date, resolve_day, spoken_date
from qa.text import QUESTION_WORDS, STOPWORDS, analyze, fold, stem

Kind = Literal["person", "group", "place", "outlet", "vessel", "date", "number"]

_AUX = {"is", "was", "are", "were", "did", "does", "do", "has", "have", "had", "will", "would", "can", "could",
        "be", "been", "being", "should", "might", "may"}
_ADVERBS = {"still", "now", "currently", "reportedly", "also", "later", "first", "then", "ever", "initially",
            "allegedly", "actually", "finally", "once", "recently", "previously", "originally", "eventually",
            "subsequently", "already", "again", "new", "current", "former", "the", "a", "an"}
_DETERMINERS = {"the", "a", "an", "its", "their", "his", "her", "this", "that", "these", "those", "each", "every",
                "both", "all", "any", "some", "our", "your", "my"}
_PREPOSITIONS = {"of", "to", "in", "on", "at", "for", "with", "from", "by", "along", "against", "after", "before",
                 "during", "over", "under", "into", "near", "between", "since", "across", "around", "through",
                 "towards", "toward", "as", "than", "once", "when", "while", "if", "that", "because", "about", "amid",
                 "following", "despite", "without", "within", "outside", "inside", "behind", "beyond", "until"}
_SPEECH_VERBS = {"say", "said", "claim", "claimed", "report", "reported", "think", "believe", "announce", "tell",
                 "told"}
# Past forms whose stem does not share the present's ("drove" / "drive"), for finding a predicate in a report
_IRREGULAR = {"drove": "drive", "driven": "drive", "took": "take", "taken": "take", "fell": "fall", "fallen": "fall",
              "held": "hold", "ran": "run", "led": "lead", "won": "win", "began": "begin", "begun": "begin",
              "struck": "strike", "fought": "fight", "sent": "send", "left": "leave", "gave": "give",
              "given": "give", "made": "make", "saw": "see", "seen": "see", "broke": "break", "broken": "break",
              "shot": "shoot", "sold": "sell", "bought": "buy", "brought": "bring", "met": "meet",
              "withdrew": "withdraw", "withdrawn": "withdraw", "overran": "overrun", "retook": "retake",
              "retaken": "retake", "rebuilt": "rebuild", "built": "build", "wrote": "write", "written": "write",
              "spoke": "speak", "spoken": "speak", "chose": "choose", "chosen": "choose", "flew": "fly",
              "hit": "hit", "lost": "lose", "paid": "pay", "found": "find", "kept": "keep", "stood": "stand",
              "let": "let", "set": "set", "put": "put", "cut": "cut", "shut": "shut"}
_PARTICLE_ENDS = {"go", "up", "down", "out", "off", "back", "over", "away", "free"}
_PAST = {"took", "held", "sent", "won", "lost", "fought", "shot", "hit", "made", "gave", "got", "led", "ran", "left",
         "fell", "brought", "bought", "sold", "seized", "killed", "struck", "built", "began", "drove", "saw"}
_GENERIC = {"individual", "person", "figure", "man", "woman", "entity", "company", "one", "people", "organization",
            "organisation", "firm", "group", "name", "player", "team", "personality", "celebrity", "athlete",
            "party", "country", "city", "place", "thing", "event", "author", "platform", "source"}
_PARTICLES = {"al", "el", "s", "bin", "ibn", "de", "van", "von", "abu", "umm"}
_FUNCTION = STOPWORDS | _PREPOSITIONS | _DETERMINERS | _PARTICLES
_LEAD_IN = re.compile(r"^\s*(?:according to [^,]+,\s*|(?:and|but|so)\s+|in (?:the )?[^,]{0,40},\s*)", re.I)

# The type nouns of "which N …?" / "what N …?", longest first where they overlap.
_TYPE_NOUNS: dict[Kind, str] = {
    "outlet": r"news agency|news agencies|news outlet|news organi[sz]ation|agency|agencies|outlet|newspaper|paper|"
              r"wire service|wire|broadcaster|channel|network|television station|station|website|publication|"
              r"magazine|media outlet|daily|news service|journal",
    "group": r"armed group|militant group|rebel group|group|militia|organi[sz]ation|faction|party|movement|"
             r"coalition|force|forces|army|unit|brigade|side|government|authority|body|alliance|company|firm|"
             r"insurgent group|insurgents|rebels|organisation",
    "place": r"town|city|village|country|province|region|crossing|border crossing|border post|post|port|airport|"
             r"base|air base|airbase|bridge|place|district|area|river|hill|capital|location|governorate|state|"
             r"neighbourhood|neighborhood|camp|valley|island|site|facility|oil field|field|checkpoint",
    "vessel": r"ship|ships|vessel|boat|tanker|freighter|frigate|destroyer|warship|submarine|aircraft|plane|"
              r"helicopter|drone|drones|missile|rocket|rifle|weapon|weapons system|tank|vehicle|truck",
    "person": r"person|individual|official|commander|general|leader|man|woman|minister|spokesman|spokeswoman|"
              r"journalist|reporter|analyst|officer|politician|president|prime minister|governor|mayor|envoy|"
              r"ambassador|judge|lawyer|activist|witness|resident|chief|director|head|mediator|adviser|advisor|"
              r"colonel|captain|sheikh|cleric|commenter|reader",
}
_TYPED = re.compile(r"^\s*(?:which|what)\s+(?:(?!(?:is|was|are|were|did|does|do|has|have|had|will|would|can|"
                    r"could)\b)(?:[a-z][\w\-]*)\s+){0,2}?(?P<n>"
                    + "|".join(f"(?P<{k}>{v})" for k, v in _TYPE_NOUNS.items()) + r")\b(?P<rest>.*)$", re.I)
_WHO = re.compile(r"^\s*(?:who|whom)\b(?P<rest>.*)$", re.I)
_NAME_OF = re.compile(r"^\s*what(?:'s|\s+is|\s+was|\s+are|\s+were)\s+the\s+names?\s+of\s+(?P<rest>.*)$", re.I)
_WHEN = re.compile(r"^\s*(?:since\s+)?when\b(?P<rest>.*)$|^\s*(?:on|in|by|at)?\s*(?:what|which)\s+"
                   r"(?:date|day|year|month)\b(?P<rest2>.*)$", re.I)
_HOW_MANY = re.compile(r"^\s*how\s+(?P<q>many|much)\s+(?P<rest>.*)$", re.I)
_WHERE = re.compile(r"^\s*where\b(?P<rest>.*)$", re.I)
# who holds X is read by qa.answer.state; "who wrote" by the bylines
_NOT_HERE = re.compile(r"^\s*who\s+(?:wrote|authored|penned)\b", re.I)

# Roles a sentence must tie to a person: the question's role noun and how reports say it.
_ROLE_FORMS: dict[str, tuple[str, ...]] = {
    "lead": ("lead", "led", "leader", "head", "chief", "command", "run"),
    "head": ("head", "lead", "led", "leader", "chief"),
    "command": ("command", "led", "lead", "leader", "chief"),
    "chief": ("chief", "head", "lead", "led", "leader", "command", "director"),
    "mediat": ("mediat", "broker", "facilit"),
    "report": ("report", "said", "say", "quot", "told", "accord", "cite", "carri"),
    "quot": ("quot", "cite", "citing", "told", "said", "report", "accord"),
    "control": ("control", "held", "hold", "seiz", "captur", "took", "run", "administ"),
    "replac": ("replac", "succeed", "success", "took over", "appoint", "name"),
    "kill": ("kill", "dead", "died", "death", "slain"),
    "take": ("took", "take", "seiz", "captur", "overr", "fell"),
    "retak": ("retook", "retak", "recaptur", "regain", "took back", "back"),
    "fight": ("fought", "fight", "battl", "clash"),
    "buy": ("bought", "buy", "purchas", "acquir"),
    "sell": ("sold", "sell", "sale"),
    "win": ("won", "win", "victor"),
    "hold": ("held", "hold", "control"),
    "say": ("said", "say", "told", "stat"),
    "tell": ("told", "tell", "said"),
    "speak": ("spoke", "speak", "told", "talk", "interview", "said"),
    "talk": ("talk", "spoke", "speak", "told", "interview"),
    "give": ("gave", "give", "told", "said"),
    "make": ("made", "make", "creat", "produc"),
    "creat": ("creat", "made", "produc", "drew", "drawn", "publish"),
    "send": ("sent", "send", "deploy", "dispatch"),
    "run": ("run", "ran", "administ", "manag", "operat"),
    "charg": ("charg", "head", "lead", "chief", "run", "command", "director"),
    "becom": ("becam", "becom", "named", "appoint", "took over", "succeed", "replac"),
}

_GROUP_TAIL = {"state", "army", "forces", "force", "front", "brigades", "brigade", "units", "unit", "militia",
               "militias", "guard", "guards", "party", "movement", "council", "government", "ministry", "authority",
               "coalition", "command", "police", "rebels", "fighters", "troops", "regiment", "battalion", "division",
               "corps", "committee", "organisation", "organization", "group", "alliance", "union", "league",
               "administration", "navy", "militants", "insurgents", "jihadists", "company", "office", "agency",
               "service", "services", "federation", "republic", "junta", "assembly", "tribe", "tribes", "clan",
               "legion", "battalions", "mission", "contingent", "gendarmerie", "directorate", "department",
               "foundation", "charity", "trust", "commission", "board", "institute", "society", "association",
               "technologies", "technology", "inc", "corp", "corporation", "labs", "systems", "holdings", "ltd", "llc",
               "motors", "airlines", "entertainment", "studios", "games", "bank", "capital", "partners", "ventures",
               "pharmaceuticals", "networks", "software", "robotics", "energy", "industries", "enterprises"}
_GROUP_NOUNS = r"army|forces|government|militia|militias|troops|police|rebels|fighters|military|authorities|" \
               r"security forces|tribesmen|militants|soldiers|navy|air force|border guards|units|brigades"
_OUTLETS = {"reuters", "ap", "afp", "associated press", "agence france presse", "agence france-presse", "bbc", "cnn",
            "al jazeera", "al arabiya", "upi", "xinhua", "tass", "ria novosti", "interfax", "sana", "ina", "irna",
            "anadolu", "dpa", "efe", "ansa", "kyodo", "bloomberg", "nbc", "cbs", "abc", "fox news", "npr", "pbs",
            "the guardian", "the times", "the new york times", "the washington post", "the wall street journal",
            "the telegraph", "the independent", "the economist", "the long war journal", "long war journal",
            "al hayat", "asharq al awsat", "rudaw", "alsumaria", "al sumaria", "sky news", "france 24",
            "deutsche welle", "voice of america", "radio free europe", "the daily star"}
_OUTLET_TAIL = {"news", "agency", "times", "post", "journal", "press", "wire", "dispatch", "herald", "tribune",
                "gazette", "monitor", "television", "tv", "radio", "network", "channel", "review", "daily", "weekly",
                "observer", "guardian", "telegraph", "express", "mirror", "magazine", "chronicle", "courier",
                "bulletin", "broadcasting", "report", "reporter", "star", "sun", "examiner", "register", "record",
                "standard", "insider", "today", "online", "fm", "am"}
_TIME_TAIL = {"eve", "day", "week", "weekend", "month", "year", "morning", "night", "festival"}  # "Christmas Eve"
_OUTLET_HEAD = {"radio", "tv", "television", "channel"}  # "Radio Kolvo", "Channel 4"
_PLACE_TAIL = {"crossing", "province", "governorate", "district", "city", "town", "village", "river", "bridge",
               "valley", "port", "airport", "base", "border", "mountains", "hills", "hill", "island", "islands",
               "sea", "bay", "gulf", "plain", "desert", "region", "county", "square", "camp", "checkpoint", "field",
               "dam", "pass", "road", "highway", "lake", "strait", "coast", "oasis", "quarter", "market",
               "street", "avenue", "lane", "boulevard"}
_PERSON_TITLES = re.compile(r"\b(?:mr|mrs|ms|dr|sir|sheikh|shaikh|gen|general|lt|col|colonel|maj|major|capt|captain|"
                            r"brig|adm|admiral|sgt|president|minister|governor|mayor|judge|imam|mullah|emir|"
                            r"commander|spokesman|spokeswoman|prince|king|queen|senator|rep|ambassador|archbishop|bishop|patriarch|"
                            r"inspector|superintendent|councillor)\.?\s+$", re.I)
_SPEECH_AFTER = re.compile(r"^(?:\s*,\s*(?:the|a|an|who|whose|\d+|[a-z]+ (?:of|at|for|to)\b)|\s+(?:said|says|told|"
                           r"added|wrote|argued|stated|explained|noted|claimed|denied|confirmed|announced|"
                           r"insisted|warned|urged|vowed|leads|led|heads|commands|replaced|succeeded)\b)")
_PLACE_BEFORE = re.compile(r"\b(?:in|at|near|from|into|to|outside|inside|across|around|towards?|via|through|"
                           r"town of|city of|village of|province of|port of|region of|district of|border with|"
                           r"entered|seized|captured|took|retook|recaptured|retake|retaken|reached|left|"
                           r"between|and)\s+(?:the\s+)?$", re.I)
_NAME = re.compile(r"(?:(?:al|el|bin|ibn|de|van|von|abu|umm)[\-\s])?[A-Z][\w'’\-.&]*(?:\s+(?:(?:of|and|the|de|al|el|"
                   r"bin|ibn|for|&|du|la|van|von)\s+)*(?:(?:al|el)-[A-Z][\w'’\-.&]*|[A-Z][\w'’\-.&]*|\d+))*")
_NUMBER = re.compile(r"(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|(?:twenty|thirty|forty|fifty|sixty|seventy|"
                     r"eighty|ninety)-(?:one|two|three|four|five|six|seven|eight|nine)|one|two|three|four|five|six|"
                     r"seven|eight|nine|"
                     r"ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|"
                     r"thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|a dozen|dozens of|hundreds of|"
                     r"thousands of)(?:\s+(?:million|billion|thousand|hundred))?(?:\s*(?:%|percent|per cent))?(?![\w])",
                     re.I)
_MONEY = re.compile(r"[£$€¥]|\b(?:pounds?|dollars?|euros?|yen|rupees?|dinars?|riyals?|pence|cents?|crowns?|francs?|"
                    r"lira|pesos?|roubles?|rubles?|shekels?|kronor|kroner|krona|hryvnias?|million|"
                    r"billion|bn|m)\b|\b(?:USD|GBP|EUR)\b", re.I)
_MONEY_ASKED = re.compile(r"\b(?:cost|costs|pay|paid|pays|spend|spent|save|saved|raise|raised|worth|price|charge|"
                          r"charged|fund|funded|budget|fare|fares|owe|owed|earn|earned|sell|sold|buy|bought)\b", re.I)
_DATE = re.compile(
    rf"\b(?:(?:{MONTH_PATTERN})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+"
    rf"(?:of\s+)?(?:{MONTH_PATTERN})\b\.?(?:,?\s+\d{{4}})?|(?:{MONTH_PATTERN})\.?\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|"
    r"(?:(?:on|last|this)\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
    r"(?<=in )\d{4}|(?<=since )\d{4}|(?<=by )\d{4}|(?<=until )\d{4}|yesterday|last night|"
    r"(?:a|one|two|three|four|five|six|\d)\s+days?\s+ago)\b", re.I)
_AGO = {"yesterday": 1, "last night": 1, "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}


def _days_back(phrase: str, reported: str | None) -> str | None:
    """"yesterday", "last night", "two days ago" in a report dated `reported`: the day counted back from it."""
    iso = parse_date(reported[:10]) if reported else None
    m = re.fullmatch(r"(yesterday|last night)|(\w+)\s+days?\s+ago", phrase.strip().lower())
    if iso is None or m is None:
        return None
    back = _AGO.get(m[1] or m[2]) or (int(m[2]) if m[2] and m[2].isdigit() else None)
    return (date.fromisoformat(iso) - timedelta(days=back)).isoformat() if back else None


_CLAUSE_BREAK = re.compile(r";|\bbut\b|\bwhile\b|\bwhereas\b|—|–|\(|\)|:")


@dataclass(frozen=True)
class Expect:
    """What a question asks for: the `kind` of the answer, the `predicate` stems that tie the answer to
    the question ("report", "lead"), and the question's own content `terms` (analysed)."""

    kind: Kind
    predicate: tuple[str, ...]
    terms: frozenset[str]
    role: bool = False  # the predicate is a role a person must be said to hold ("leader", "media adviser")
    counted: bool = False  # kind "number": the predicate is the counted noun, which the number phrase must name
    money: bool = False  # kind "number": "how much … cost / pay / save": a sum of money answers


@dataclass(frozen=True)
class Limits:
    """The reader's few numbers, fitted leave-one-archive-out by `eval/fit_reader.py`: the share of the
    question's terms a sentence must say (`fit`), how far in words a phrase may sit from the predicate
    (`reach`), and the score margins under which a second phrase in the sentence (`tie`) or in another
    sentence (`rival`) makes the answer too uncertain to give."""

    fit: float = 0.6
    reach: int = 10
    tie: float = 0.15
    rival: float = 0.3


LIMITS = Limits()


@dataclass(frozen=True)
class Lead:
    """A direct answer: the phrase, and the index of the sentence it is read from."""

    text: str
    sentence: int
    score: float
    margin: float = 1.0  # over the nearest other phrase, in this sentence or another (capped at 1)


def _rest_words(rest: str) -> list[str]:
    return re.findall(r"[A-Za-z][\w'’\-]*", rest)


def _predicate(rest: str) -> tuple[tuple[str, ...], bool]:
    """The predicate of what follows the wh-phrase, as stems, and whether it is a role: "is the media
    adviser to X" -> a role; "did the repairs to the Altmar market cost" -> the verb after the subject;
    "was captured with X" -> the participle; "reported that …" -> the first lower-case content word."""
    ws = _rest_words(rest)
    k = None
    for j, w in enumerate(ws):
        if w.lower() in _AUX:
            if w.lower() in {"do", "does", "did"} or all(x[:1].isupper() or x.lower() in _FUNCTION
                   for x in ws[:j]):
                k = j
            break
    if k is None:
        for w in ws:
            if not w[:1].isupper() and w.lower() not in STOPWORDS | _ADVERBS | _AUX | _PARTICLES:
                return (stem(w.lower()),), False
        return (), False
    aux, after = ws[k].lower(), ws[k + 1:]
    if len(after) > 3 and after[-1].lower() in _PARTICLE_ENDS and not after[-2][:1].isupper():
        after = after[:-1]  # "were the drivers let go": the verb before its particle
    last = after[-1].lower() if after else ""
    if aux in {"is", "was", "are", "were"} and len(after) > 2 and not after[-1][:1].isupper() \
            and (last.endswith("ed") or last in _IRREGULAR):
        return (stem(_IRREGULAR.get(last, last)),), False  # "was the ceasefire for Dunmere signed": the participle
    owner = next((j for j, w in enumerate(after[:3]) if re.search(r"['’]s$", w)), None)
    if owner is not None and any(w.lower() in _PREPOSITIONS or re.search(r"(?:ing|ed)$", w) for w in after[:owner]):
        owner = None  # "the director of St. Brigid's hospital": the role comes before the owner
    if aux in {"is", "was", "are", "were"} and owner is not None and (owner == 0 or after[0].lower() in {"the", "a",
                                                                                                        "an"}) \
            and owner + 1 < len(after) and not after[owner + 1][:1].isupper():
        after = ["the"] + after[owner + 1:]  # "is the town council's harbour officer": the role after the owner
    if aux in {"is", "was", "are", "were"} and len(after) > 1 and after[0].lower() in {"the", "a", "an"} \
            and not after[1][:1].isupper():
        role = [w.lower() for w in after[1:3] if not w[:1].isupper()]
        role = role[:1] if len(role) > 1 and role[1] in STOPWORDS | _PREPOSITIONS else role
        if not role or role[0] in {"name", "names"}:
            return (), False
        if role[0] in _GENERIC:  # "is the individual accused of …": the verb after the noun ties the answer
            for w in after[2:]:
                if not w[:1].isupper() and w.lower() not in STOPWORDS | _ADVERBS | _AUX | _DETERMINERS | _GENERIC:
                    return (stem(w.lower()),), False
            return (), False
        return tuple(stem(w) for w in reversed(role)), True  # "media adviser": the head noun ties the answer
    if aux in {"is", "was", "are", "were", "has", "have", "had", "been", "be"}:
        for w in after:
            if not w[:1].isupper() and w.lower() not in STOPWORDS | _ADVERBS | _AUX | _DETERMINERS:
                return (stem(w.lower()),), False
        return (), False
    for j, w in enumerate(after):  # do-support: the verb ends its subject's noun phrase
        lw = w.lower()
        if lw in _SPEECH_VERBS and any(x.lower().endswith("ed") and x.lower() not in _AUX or x.lower() in _PAST
                                       for x in after[j + 1:]):
            continue  # "did the FCM say it captured …": what was said is the predicate
        after_det = j > 0 and after[j - 1].lower() in _DETERMINERS
        nxt = after[j + 1] if j + 1 < len(after) else ""
        ends = not nxt or nxt[:1].isupper() or nxt.lower() in STOPWORDS | _PREPOSITIONS | _DETERMINERS
        if not w[:1].isupper() and lw not in STOPWORDS | _ADVERBS | _DETERMINERS | _PARTICLES and not after_det \
                and ends:
            return (stem(lw),), False
    return (), False


_WHEN_NOW = re.compile(r"\b(?:at present|at the moment|these days|nowadays|right now|today|now|currently)\b", re.I)


def expect(question: str) -> Expect | None:
    """The answer type a question asks for, with its predicate; None for questions a short phrase
    does not answer ("why …", "what happened …", "who wrote …", yes/no)."""
    text = _LEAD_IN.sub("", question).strip().rstrip("?").strip()
    terms = frozenset(analyze(_WHEN_NOW.sub(" ", text)))  # "at present" is when, not what, the question asks
    if _NOT_HERE.match(text):
        return None
    if m := _WHEN.match(text):
        rest = m["rest"] if m["rest"] is not None else m["rest2"] or ""
        return Expect("date", _predicate(rest)[0], terms)
    if m := _HOW_MANY.match(text):
        ws = _rest_words(m["rest"])
        if ws and ws[0].lower() in _AUX:  # "how much did the repairs cost": the verb ties the amount
            return Expect("number", _predicate(m["rest"])[0], terms,
                          money=m["q"].lower() == "much" and _MONEY_ASKED.search(m["rest"]) is not None)
        head: list[str] = []  # "how many assault rifles were found": the counted noun, its last word
        for w in ws:
            if w.lower() in _AUX or w.lower() in STOPWORDS or w.lower().endswith("ed") and head:
                break
            head.append(w.lower())
        return Expect("number", tuple(stem(w) for w in head[-1:]), terms, counted=True)
    if m := _NAME_OF.match(text):  # "the name of the Vell Valley Authority's chief": the role decides
        rest = m["rest"]
        found = re.search(r"(?:'s|’s)\s+([a-z][\w\-]*(?:\s+[a-z][\w\-]*)?)", rest) or \
            re.match(r"(?:the\s+|a\s+|an\s+)?([a-z][\w\-]*(?:\s+[a-z][\w\-]*)?)", rest)
        if found is None:
            return None
        head = found[1].split()
        named: Kind | None = next((k for k, v in _TYPE_NOUNS.items() if re.fullmatch(v, head[-1], re.I)), None)
        if named is None or named == "place" and head[-1].lower() not in {"town", "city", "village", "crossing"}:
            return None
        return Expect(named, tuple(stem(w) for w in reversed(head)), terms, role=named == "person")
    if m := _TYPED.match(text):
        kind: Kind = next(k for k in _TYPE_NOUNS if m[k])
        noun = m["n"].lower()
        if kind == "person" and noun in {"commenter", "reader"}:
            return None  # qa.answer.extractive reads comment questions by commenter
        pred, role = _predicate(m["rest"])
        if kind == "outlet" and (spoke := re.search(r"\b(?:tell|told|speak|spoke|talk(?:ed)?|quote[ds]?|cite[ds]?|"
                                                    r"report(?:ed|s)?|say|said|interview(?:ed)?)\b", m["rest"], re.I)):
            verb = spoke[0].lower()
            pred = (stem(_IRREGULAR.get(verb, verb)),)  # "did P tell that …": the outlet he told
        if kind == "group" and noun == "side":
            return None  # "which side of the crossing" asks for a part, not a group
        return Expect(kind, pred, terms, role)
    if m := _WHO.match(text):
        rest = m["rest"]
        if re.match(r"^\s*(?:control(?:s|led)?|holds?|held|is in control|was in control|runs?|ran|still|"
                    r"(?:is|was|are|were|has been|had been)\s+(?:running|controlling|holding))\b", rest, re.I):
            return None  # who holds X: qa.answer.state
        pred, role = _predicate(rest)
        if not pred:
            return None
        return Expect("person", pred, terms, role)
    if m := _WHERE.match(text):
        pred, _ = _predicate(m["rest"])
        return Expect("place", pred, terms)
    return None


def _predicate_at(predicate: Sequence[str], tokens: Sequence[tuple[str, int, int]]) -> list[int]:
    """Token positions in the sentence that say the predicate: the same stem, a stem sharing its first five
    letters ("command" / "commander"), or a form reports use for it ("led" for "lead", "said" for "report")."""
    if not predicate:
        return []
    first = predicate[0]
    forms = set(_ROLE_FORMS.get(first, ())) | {first}
    for key, vals in _ROLE_FORMS.items():
        if first.startswith(key) or key.startswith(first) and len(first) >= 4:
            forms |= set(vals) | {key}
    out = []
    for i, (w, _, _) in enumerate(tokens):
        s = stem(_IRREGULAR.get(w, w))
        if any(s == f or s.startswith(f) and len(f) >= 4 or f.startswith(s) and len(s) >= 5 and len(f) - len(s) <= 3
               or len(s) >= 5 and len(f) >= 5 and s[:5] == f[:5] for f in forms):
            out.append(i)
        elif w in forms:
            out.append(i)
    if len(predicate) > 1:  # "political chief": the head said beside its modifier ("Minister of the Interior")
        mod = predicate[1][:5]
        out = [i for i in out if any(stem(w).startswith(mod) or mod.startswith(stem(w)) and len(w) >= 4
                                     for w, _, _ in tokens[max(0, i - 3):i + 4])]
    return out


def _tokens(sentence: str) -> list[tuple[str, int, int]]:
    return [(m.group().lower(), m.start(), m.end()) for m in re.finditer(r"[\w'’\-]+", sentence)]


def _token_index(tokens: Sequence[tuple[str, int, int]], offset: int) -> int:
    for i, (_, _, b) in enumerate(tokens):
        if b > offset:
            return i
    return len(tokens)


_TITLE_WORDS = {"deputy", "foreign", "defence", "defense", "interior", "finance", "minister", "prime", "president",
                "vice", "general", "gen", "lt", "col", "colonel", "major", "maj", "captain", "capt", "ambassador",
                "envoy", "spokesman", "spokeswoman", "commander", "chief", "governor", "mayor", "sheikh", "shaikh",
                "dr", "mr", "mrs", "ms", "judge", "director", "secretary", "senator", "king", "prince", "emir",
                "acting", "former", "brigadier", "brig", "admiral", "adm", "sergeant", "sgt", "lieutenant", "senior",
                "top", "customs", "police", "army", "state", "imam", "mullah", "cleric", "negotiator", "leader",
                "editor", "correspondent", "reporter", "analyst", "professor", "prof", "sir", "lord", "lady",
                "archbishop", "bishop", "patriarch", "father", "inspector", "superintendent", "chairman",
                "chairwoman", "chair", "councillor", "representative", "special", "head"}


def _clean_phrase(text: str, person: bool = False) -> str:
    words = text.split()
    drop = STOPWORDS | _PREPOSITIONS | {"according", "but", "and", "mr", "mrs", "ms", "sources", "said", "among",
                                        "amid", "despite", "unlike", "like"}
    while words and (words[0].lower() in drop or person and words[0].lower().strip(".") in _TITLE_WORDS
                     and len(words) > 2):
        words = words[1:]
    while words and words[-1].lower().strip(".,’'") in {"of", "and", "the", "for", "&", "de", "al", "el"}:
        words = words[:-1]
    return re.sub(r"(?:['’]s|[.,’'])$", "", " ".join(words))


def _phrases(sentence: str) -> list[tuple[str, int, int]]:
    """Capitalised runs of the sentence, each with its span; a leading function word dropped."""
    out = []
    for m in _NAME.finditer(sentence):
        raw = m.group()
        for piece in re.split(r"(?<=[a-z]{3}\.)\s+|,\s*|(?<!of)(?<!for)(?<!and)\s+the\s+", raw):
            if not piece:
                continue
            at = sentence.find(piece, m.start())
            for clean in dict.fromkeys((_clean_phrase(piece), _clean_phrase(piece, person=True))):
                if not clean or not clean[:1].isalpha():
                    continue
                start = sentence.find(clean, at)
                out.append((clean, start, start + len(clean)))
    return out


def _joined(sentence: str, phrases: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Names written as one with a slash ("Albu Kamal/Al Qaim") kept as one phrase."""
    out: list[tuple[str, int, int]] = []
    for p in phrases:
        if out and sentence[out[-1][2]:p[1]].strip() == "/":
            q = out.pop()
            p = (sentence[q[1]:p[2]], q[1], p[2])
        out.append(p)
    return out


def _with_group_noun(sentence: str, phrase: tuple[str, int, int]) -> tuple[str, int, int]:
    """"Iraqi" + " army" -> "Iraqi army": a nationality or name followed by a lower-case group noun."""
    text, a, b = phrase
    m = re.match(rf"\s+({_GROUP_NOUNS})\b", sentence[b:])
    return (f"{text} {m[1]}", a, b + m.end()) if m else phrase


def _is_outlet(text: str) -> bool:
    f = fold(text)
    words = f.split()
    last = words[-1] if words else ""
    return f in _OUTLETS or f.removeprefix("the ") in _OUTLETS or len(words) >= 2 and (
        last in _OUTLET_TAIL or words[0] in _OUTLET_HEAD)


def _is_group(text: str) -> bool:
    f = fold(text).split()
    if not f:
        return False
    return f[-1] in _GROUP_TAIL or re.fullmatch(rf"(?:{_GROUP_NOUNS})", " ".join(f[-2:])) is not None or \
        re.fullmatch(rf"(?:{_GROUP_NOUNS})", f[-1]) is not None or (text.isupper() and 2 <= len(text) <= 6)


def _is_person_shape(text: str) -> bool:
    words = text.split()
    core = [re.sub(r"^(?:al|el)-", "", w) for w in words
            if w.lower() not in {"al", "el", "bin", "ibn", "de", "van", "von", "abu", "umm"}]
    return 2 <= len(words) <= 4 and all(w[:1].isupper() for w in core) and not text.isupper() \
        and fold(words[-1]).strip(".") not in _GROUP_TAIL | _PLACE_TAIL | _OUTLET_TAIL | _TIME_TAIL \
        and not any(ch.isdigit() for ch in text)


def _said_as_person(sentence: str, a: int, b: int) -> bool:
    return bool(_PERSON_TITLES.search(sentence[max(0, a - 30):a]) or _SPEECH_AFTER.match(sentence[b:b + 40])
                or re.search(r"\b(?:by|named|called)\s+$", sentence[max(0, a - 12):a]))


def _is_place(sentence: str, text: str, a: int, b: int) -> bool:
    f = fold(text).split()
    if not f or _is_outlet(text) or _is_group(text):
        return False
    if f[-1] in _PLACE_TAIL:
        return True
    after = sentence[b:b + 20]
    return bool(_PLACE_BEFORE.search(sentence[max(0, a - 30):a])) and not _said_as_person(sentence, a, b) \
        or bool(re.match(r"\s+(?:crossing|border|province|city|town|village|river|bridge|port)\b", after, re.I))


def _is_vessel(sentence: str, text: str, a: int) -> bool:
    if re.match(r"(?:MV|HMS|USS|INS|RFS|M/V|FV|SS|USNS)\s", text):
        return True
    if re.search(r"[A-Za-z]-?\d", text) and len(text.split()) <= 3:
        return True  # "T-72", "Bayraktar TB2"
    return bool(re.search(r"\b(?:ship|vessel|tanker|freighter|frigate|destroyer|carrier|boat|aircraft|helicopter|"
                          r"drone|missile|rifle|tank)s?,?\s+(?:the\s+|called\s+|named\s+)?$",
                          sentence[max(0, a - 30):a],
                          re.I))


_DATELINE = re.compile(rf"^\s*(?:\([^)]{{1,80}}\)\s*)?[A-Z][A-Z'’.\-/ ]{{2,}}(?:,\s*[^,\n]{{1,40}}?)?,\s*"
                       rf"(?i:(?:{MONTH_PATTERN})\.?\s+\d{{1,2}}|\d{{1,2}}\s+(?:{MONTH_PATTERN})\.?)\s*(?:\([^)]{{1,60}}\))?\s*[-–—]+\s*")


def dateline_end(sentence: str) -> int:
    """Where a wire dateline ("LISSA RIVER, Dessa, March 21 (Northgate Wire) - ") ends: its place and date
    are where and when the report was filed, never what the sentence says happened."""
    m = _DATELINE.match(sentence)
    return m.end() if m else 0


def candidates(kind: Kind, sentence: str) -> list[tuple[str, int, int]]:
    """Phrases of the sentence of the expected kind, each with its span (none inside a dateline)."""
    start = dateline_end(sentence)
    return [c for c in _candidates(kind, sentence) if c[1] >= start]


def _candidates(kind: Kind, sentence: str) -> list[tuple[str, int, int]]:
    if kind == "date":
        return [(m.group().strip(), m.start(), m.end()) for m in _DATE.finditer(sentence)]
    if kind == "number":
        out = []
        for m in _NUMBER.finditer(sentence):
            near = sentence[max(0, m.start() - 12):m.end() + 12]
            if _DATE.search(near) and re.fullmatch(r"\d{4}|\d{1,2}", m.group()):
                continue  # a year or a day of a date is no count
            tail = re.match(r"\s+((?:[a-z][\w\-]*\s+){0,2}?(?:[a-z][\w\-]*s|people|men|women|children|police|"
                            r"personnel|staff|civilians|troops))\b", sentence[m.end():])
            end = m.end() + (tail.end() if tail else 0)
            start = m.start() - 1 if m.start() > 0 and sentence[m.start() - 1] in "£$€¥" else m.start()
            out.append((sentence[start:end], start, end))
        return out
    out = []
    phrases = _joined(sentence, _phrases(sentence))
    if kind == "person":  # "Defence Minister Roza Hartel and Colonel Piet Morane" are two people
        phrases = [(m.group(), a + m.start(), a + m.end()) for text, a, _ in phrases
                   for m in re.finditer(r"(?:(?<=^)|(?<=\sand\s))\S(?:.*?\S)?(?=\s+and\s+|$)", text)]
        # "Archbishop Feodor of Mirsk": the person is the name before "of"
        phrases += [(text[:k], a, a + k) for text, a, _ in phrases if (k := text.find(" of ")) > 0]
    for phrase in phrases:
        text, a, b = phrase
        if kind == "group":
            text, a, b = _with_group_noun(sentence, phrase)
            if _is_group(text) and not _is_outlet(text):
                out.append((text, a, b))
        elif kind == "outlet":
            if _is_outlet(text) or (text.isupper() and 2 <= len(text) <= 5
                                    and re.match(r"\s+(?:reported|quoted|said|cited|news|agency)\b",
                                                 sentence[b:b + 12])):
                out.append((text, a, b))
        elif kind == "place":
            if _is_place(sentence, text, a, b):
                out.append((text, a, b))
        elif kind == "vessel":
            if _is_vessel(sentence, text, a):
                out.append((text, a, b))
        elif kind == "person":  # "the Southern Shield": a determiner before a name makes it a body
            if _is_person_shape(text) and not _is_place(sentence, text, a, b) and not re.search(r"['’]s\b", text) \
                    and not re.search(r"\b(?:the|a|an)\s+$", sentence[max(0, a - 5):a], re.I) \
                    and not _BODY_AFTER.match(sentence[b:b + 30]) and not _is_outlet(text) \
                    and not all(fold(w).strip(".") in _TITLE_WORDS for w in text.split()) \
                    and not re.match(r"['’]s\b", sentence[b:b + 3]):
                out.append((text, a, b))  # not "Radio Kolvo", "Deputy Minister", nor "Mr Tal's men"
    return out


# "Southern Shield fighters", "FCM officials": a name before these words names a body, not a person
_BODY_AFTER = re.compile(r"\s+(?:fighters|forces|troops|militia|militiamen|members|officials|units|soldiers|rebels|"
                         r"gunmen|supporters|positions|lines|territory|-held|-controlled)\b", re.I)
_CLAUSE_AND = re.compile(r"(?:,\s*|\s)(?:and|but|then|before|after|while)\s+(?:the|a|an|its|their|his|her)\s", re.I)


def _clause_at(sentence: str, a: int) -> tuple[int, int]:
    """The clause of `sentence` around offset `a`: bounded by the clause breaks and by "and the …", which
    starts a clause with a subject of its own."""
    lo, hi = 0, len(sentence)
    for m in list(_CLAUSE_BREAK.finditer(sentence)) + list(_CLAUSE_AND.finditer(sentence)):
        if m.end() <= a:
            lo = max(lo, m.end())
        elif m.start() >= a:
            hi = min(hi, m.start())
    return lo, hi


def _clause_between(sentence: str, a: int, b: int) -> bool:
    lo, hi = min(a, b), max(a, b)
    return bool(_CLAUSE_BREAK.search(sentence[lo:hi]))


def _asked(question: str) -> set[str]:
    """The question's terms, with the initials of each of its multi-word names ("Teral Liberation Army" ->
    "tla"): a report that writes the acronym names the same body."""
    return set(analyze(question)) | {initials for _, initials in _name_groups(question) if initials}


def _names_in(question: str) -> list[set[str]]:
    """The question's proper names (capitalised runs after the first word), each as analysed terms."""
    out = []
    for group, initials in _name_groups(question):
        out.append(group | {initials} if initials else group)  # "Teral Liberation Army" is said as "TLA"
    return out


def question_names(question: str) -> list[set[str]]:
    """The question's proper names, each as analysed terms (its acronym included)."""
    return _names_in(question)


def _name_groups(question: str) -> list[tuple[set[str], str | None]]:
    """The question's proper names as analysed terms, each with its initials when it has two or more
    capitalised words ("Teral Liberation Army" -> "tla")."""
    body = _LEAD_IN.sub("", question)
    first = re.match(r"\s*\S+", body)
    rest = body[first.end():] if first else body
    out: list[tuple[set[str], str | None]] = []
    for text, _, _ in _phrases(rest):
        t = set(analyze(text))
        initials = "".join(w[0] for w in text.split() if w[:1].isupper()).lower()
        if t:
            out.append((t, initials if len(initials) >= 2 else None))
    return out


def sentence_fit(e: Expect, question: str, sentence: str, title: str = "",
                 spell: Callable[[set[str], set[str]], set[str]] | None = None) -> float:
    """How fully a sentence says what the question asks about: the share of the question's content terms
    (names counted from the sentence or its passage's title) present."""
    own = set(analyze(sentence))
    if spell is not None:
        own = spell(own, set(e.terms))
    context = own | set(analyze(title))
    type_words = set(analyze(_TYPE_NOUNS.get(e.kind, "").replace("|", " ")))
    wanted = {t for t in e.terms if t not in type_words and t not in QUESTION_WORDS}
    if not wanted:
        return 1.0
    groups = _names_in(question)
    names = set().union(*groups) if groups else set()
    for group, initials in _name_groups(question):  # "TLA" in the sentence says "Teral Liberation Army"
        if initials is not None and initials in context:
            context |= group
    said = set(e.predicate[:1]) if e.predicate and _predicate_at(e.predicate, _tokens(sentence)) else set()
    have = sum(1 for t in wanted if (t in context if t in names else t in own or t in said))
    return have / len(wanted)


_YEARISH = re.compile(rf"\b(?:1[89]\d\d|20\d\d)s?\b|\b(?:{MONTH_PATTERN})\b", re.I)


def _times_said(question: str, sentence: str, reported: str | None = None) -> bool:
    """Every year and month the question names is in the sentence, or is the year or month of its report's
    date: "who commanded X before 2015" is not answered by a sentence about X's commander that names no year."""
    dated = _date_words(reported)
    return all(re.search(rf"\b{re.escape(m.group())}", f"{sentence} {dated}", re.I)
               for m in _YEARISH.finditer(question))


def _date_words(reported: str | None) -> str:
    """The month and year of a report's date, as words a question may name ("September 2024")."""
    iso = parse_date(reported) if reported else None
    return date.fromisoformat(iso).strftime("%B %Y") if iso else ""


def _figures_said(question: str, sentence: str) -> bool:
    """Every figure the question names ("40 dead", "the 5th Regiment") is in the sentence."""
    said = set(re.findall(r"\d[\d,.]*\d|\d", sentence))
    return all(f in said for f in re.findall(r"\d[\d,.]*\d|\d", question))


def tied(e: Expect, asked: set[str], s: str, names: Sequence[set[str]] = (), question: str = "",
         now: bool = False) -> list[tuple[str, int]] | None:
    """The phrases of the expected type in sentence `s` that the sentence ties to the predicate, each with
    its distance in words from it; None when the sentence does not say the predicate at all. With the
    `question`, a role's holder must hold it for a body the question names and a signatory must sign for
    the party it names; with `now`, one the sentence says held the role before is no answer."""
    tokens = _tokens(s)
    party = _party(question) if question and e.predicate and e.predicate[0].startswith(_PARTY_VERBS) else None
    at = _predicate_at(e.predicate, tokens)
    if e.predicate and not at and not e.counted:
        return None
    out = []
    for text, a, b in candidates(e.kind, s):
        if e.counted and e.predicate and e.predicate[0] not in {stem(w) for w in re.findall(r"[\w\-]+", text.lower())}:
            continue  # "how many rifles" is not answered by "three months"
        if e.kind == "number" and e.money and not _MONEY.search(s[max(0, a - 4):b + 12]):
            continue  # "how much did it cost" is answered by a sum of money, not by "three months"
        terms = set(analyze(text))
        if not terms or terms <= asked or len(terms & asked) * 2 > len(terms):
            continue  # what the question already names is not what it asks for
        if e.kind == "person" and (last := analyze(text.split()[-1])) and set(last) <= asked:
            continue  # "Deputy Governor Sedlak" is the Sedlak the question asks about, not the answer
        if e.kind == "person" and not _said_as_person(s, a, b) and not e.role and not at:
            continue
        dist = 5
        if at:
            ca, cb = _token_index(tokens, a), max(_token_index(tokens, b) - 1, _token_index(tokens, a))
            dist = min(min(abs(p - ca), abs(p - cb)) for p in at)
            near = min(at, key=lambda p: min(abs(p - ca), abs(p - cb)))
            if dist > (25 if e.kind == "date" else LIMITS.reach) \
                    or _clause_between(s, tokens[near][1], a if tokens[near][1] > a else b):
                continue
        if e.kind == "person" and at and (e.role or e.predicate[0].startswith(_ROLE_PREDICATES)) \
                and not _role_of_subject(s, tokens, near, asked, (a, b),
                                         _object_head(question, e, whole=True) if question else []):
            continue  # "the National Guard's chief" does not answer who commands the 3rd Brigade
        if e.kind == "person" and at and b <= tokens[near][1] and (e.role or e.predicate[0].startswith(
                _ROLE_PREDICATES)) and re.search(r"\b(?:to|of|for|with|and)\s+(?:the\s+|its\s+|their\s+|his\s+|her\s+)?"
                                                 r"(?:[a-z]+\s+)?$", s[b:tokens[near][1]]):
            continue  # "X, media adviser to the commander of …": X is the adviser, not the commander
        if e.kind == "person" and at and question and (e.role or e.predicate[0].startswith(_ROLE_PREDICATES)) \
                and not _body_of_role(s, tokens, near, (a, b), _name_heads(question) + _object_head(question, e)):
            continue  # "the government delegation will be led by X" does not say who leads the militia
        if e.kind == "person" and at and now and _FORMER.search(s[min(b, tokens[near][2]):max(a, tokens[near][1])]):
            continue  # "X previously commanded the regiment" does not say who commands it now
        if party is not None and not _signs_for(s, a, party):
            continue  # "signed for the government by X" does not say who signed for the rebels
        if e.kind == "date" and at and _SAID_ON.search(s[max(0, a - 40):a]) \
                and not e.predicate[0].startswith(_SPEECH_STEMS):
            continue  # "the ministry said on Monday that …": Monday is when it was said, not when it happened
        if e.kind == "date" and at and not _names_in_clause(names, s, tokens[near][1]):
            continue  # "X withdrew on Saturday and the army took over on Sunday": Sunday is not X's
        out.append((text, dist, a))
    out = _agent_first(s, tokens, at, out)
    out = _new_holder(s, out)
    return [(text, dist) for text, dist, _ in out]


_SPOKEN = re.compile(r"\b(?:did|does|do)\s+(?P<np>[\w'’\- ]{1,60}?)\s+(?:say|claim|report|tell|announce|estimate|"
                     r"put)\b", re.I)


def _speaker(question: str) -> str | None:
    """Who the question says gave the answer ("did the Tesk hospital director say" -> "director"), as a stem."""
    m = _SPOKEN.search(question)
    if m is None:
        return None
    words = [w for w in re.findall(r"[\w\-]+", m["np"]) if w.lower() not in _FUNCTION]
    terms = analyze(words[-1]) if words else []
    return terms[-1] if terms else None  # "did Omar al-Rawi say": "rawi", as a sentence's terms have it


def _names_said(names: Sequence[set[str]], s: str, title: str,
                spell: Callable[[set[str], set[str]], set[str]] | None, e: Expect) -> bool:
    """Every name the question gives is said by the sentence or its passage's title."""
    own = set(analyze(s)) | set(analyze(title)) | _initials_of(s)
    if spell is not None:
        own = spell(own, set(e.terms))
    return all(name & own for name in names)


def _initials_of(text: str) -> set[str]:
    """The initials of the text's names of two or more capitalised words: a question's "FCM" is said where a
    report writes "Free Coast Movement"."""
    out = set()
    for phrase, _, _ in _phrases(text):
        caps = [w for w in phrase.split() if w[:1].isupper()]
        if len(caps) >= 2:
            out.add("".join(w[0] for w in caps).lower())
    return out


def _whole_date(text: str) -> bool:
    """A date written in full ("June 22, 2014") is answered as the report writes it."""
    return resolve_day(text, None) is not None


def _same(a: str, b: str) -> bool:
    """"Colonel Idris Makaro" and "Idris Makaro" are one answer, not rivals."""
    fa, fb = f" {fold(a)} ", f" {fold(b)} "
    return fa in fb or fb in fa


def _names_in_clause(names: Sequence[set[str]], s: str, at: int) -> bool:
    """One name of the question is said in the clause that says its predicate (the others may be in the
    sentence or its title; "the town" may stand for a place named earlier; another subject's clause names
    none of them)."""
    lo, hi = _clause_at(s, at)
    clause = set(analyze(s[lo:hi])) | _initials_of(s[lo:hi])
    return not names or any(name & clause for name in names)


def _agent_first(s: str, tokens: Sequence[tuple[str, int, int]], at: Sequence[int],
                 found: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """"negotiated by the Anselm Foundation, … the TLA agreed": where the predicate is a participle with a
    "by" phrase, the phrase after "by" is its agent and every other candidate is someone else."""
    for p in at:
        if p + 1 < len(tokens) and tokens[p + 1][0] == "by":
            after = tokens[p + 1][2]
            agent = [c for c in found if c[2] >= after and not re.search(r"[,;:]", s[after:c[2]])
                     and len(s[after:c[2]].split()) <= 1]
            if agent:
                return agent
    return found


_REPLACED = re.compile(r"\b(?:replac\w*|succeed\w*)\b", re.I)


def _new_holder(s: str, found: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """"replaced their military chief, Bram Tolliver, with his deputy, Konrad Hale" / "was replaced by X" /
    "B replaced A": only the newcomer holds the role now; whoever was replaced is no answer."""
    m = _REPLACED.search(s)
    if m is None or len(found) < 2:
        return found
    by = re.compile(r"\b(?:with|by)\b").search(s, m.end())
    if by is not None:
        newer = [c for c in found if c[2] >= by.end()]
        if newer:
            return newer
    if not re.search(r"\b(?:was|were|been|be|is)\s+$", s[max(0, m.start() - 8):m.start()]):
        before = [c for c in found if c[2] < m.start()]
        if before:
            return before
    return found


def _role_of_subject(s: str, tokens: Sequence[tuple[str, int, int]], p: int, asked: set[str],
                     cand: tuple[int, int] = (-1, -1), over: Sequence[set[str]] = ()) -> bool:
    """"The TLA's chief, Edvard Sarno" does not answer who leads the Sons of the Ridge: where the role word
    nearest the candidate belongs to a named body ("X's chief", "chief of X"), that body must be one the
    question names."""
    a, b = tokens[p][1], tokens[p][2]
    name = r"[A-Z0-9][\w\-]*(?:\s+(?:of\s+the\s+|of\s+)?[A-Z][\w\-]*)*"
    before = s[max(0, a - 60):a]
    if m := re.search(rf"({name})(?:['’]s|s['’])\s+((?:[a-z]+\s+){{0,2}})$", before):
        owner = m[1]  # "the TLA's chief", "the Friends' chair"
        other = set(analyze(m[2])) - asked - {"new", "current", "top", "own", "acting"}
        if other:
            return False  # "the TLA's intelligence chief" is not the TLA's chief
    elif m := re.search(rf"({name}),\s+whose\s+(?:[a-z]+\s+){{0,2}}$", before):
        owner = m[1]  # "Mirsk Potash, whose new director, …"
    elif m := re.search(r"\b(?:the|its|their)\s+([a-z][\w\-]*)['’]s\s+(?:[a-z]+\s+){0,2}$", before):
        owner = m[1]  # "the division's commander": a body named by a common noun; "the group's" stands for it
        if owner in _ANAPHOR:
            return True
    elif m := re.match(rf"\w*\s+(?:of|for|to)\s+(?:the\s+)?({name}(?:['’]s(?:\s+[a-z][\w\-]*){{1,3}})?)", s[b:b + 60]):
        if b + m.start(1) <= cand[1] and b + m.end(1) >= cand[0]:
            return True  # "under the command of Colonel X": the owner is the candidate itself
        owner = m[1]  # "director of Tesk's district hospital": the hospital
    else:
        return True  # the role word is not owned by anyone named: nothing to check
    terms = set(analyze(owner)) | _initials_of(owner) | ({owner.lower()} if owner.isupper() else set())
    if over:  # "Who commanded the Legion's checkpoint?": the checkpoint's, not the Legion's, commander
        return any(terms & head for head in over)
    return bool(terms & asked)


_FORMER = re.compile(r"\b(?:previously|formerly|former|once|until now|until recently|ex-|earlier)\b", re.I)
_SAID_ON = re.compile(r"\b(?:said|says|told\s+(?:[\w'’\-]+\s+){1,3}?|announced|stated|added|confirmed|denied|wrote|"
                      r"claimed|insisted|warned|reported)\s*,?\s*$", re.I)
_SPEECH_STEMS = ("say", "said", "tell", "told", "announc", "stat", "report", "confirm", "deni", "claim", "warn",
                 "wrote", "write")
_PARTY_VERBS = ("sign", "negoti", "vote", "testif")
_PARTY = re.compile(r"\b(?:on behalf of|for)\s+(?:the\s+)?"
                    r"(?P<p>[A-Z][\w'’\-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w'’\-]*)*|"
                    r"government|opposition|rebels|army)")


def _party(question: str) -> set[str] | None:
    """The party a question asks about someone acting for ("Who signed the accord for the Coast Front?" ->
    the Coast Front's terms and initials), or None."""
    m = _PARTY.search(question)
    if m is None:
        return None
    caps = [w for w in m["p"].split() if w[:1].isupper()]
    return set(analyze(m["p"])) | ({"".join(w[0] for w in caps).lower()} if len(caps) >= 2 else set())


def _signs_for(s: str, a: int, party: set[str]) -> bool:
    """The party the sentence says the phrase at `a` acted for — the nearest "for X" / "on behalf of X"
    before it, else after it — is the one asked about."""
    found = list(_PARTY.finditer(s))
    before = [m for m in found if m.end() <= a]
    after = [m for m in found if m.start() >= a]
    m = before[-1] if before else after[0] if after else None
    if m is None:
        return False
    return bool((set(analyze(m["p"])) | _initials_of(m["p"])) & party)


_ROLE_VERB = re.compile(r"(?:led|headed|commanded|chaired|run|directed|managed|leads|heads|commands|chairs|runs|"
                        r"directs|manages)$", re.I)
_ANAPHOR = {"it", "they", "which", "that", "who", "whom", "group", "militia", "movement", "organisation",
            "organization", "force", "forces", "unit", "units", "brigade", "regiment", "battalion", "army", "party",
            "faction", "body", "council", "board", "society", "agency", "ministry", "authority"}


_UNIT_NOUNS = set(analyze("regiment battalion brigade division unit army militia council board society agency ministry "
                           "authority party faction company platoon squad"))


def _name_heads(question: str) -> list[set[str]]:
    """The head of each name the question gives (its last word, analysed), with the name's initials:
    "the Red Lantern Society" -> {"societi", "rls"}."""
    body = _LEAD_IN.sub("", question)
    first = re.match(r"\s*\S+", body)
    rest = body[first.end():] if first else body
    out = []
    for text, _, _ in _phrases(rest):
        words = text.split()
        caps = [w for w in words if w[:1].isupper()]
        head = set(analyze(words[-1])) | ({"".join(w[0] for w in caps).lower()} if len(caps) >= 2 else set())
        if head:
            out.append(head)
    return out


def _object_head(question: str, e: Expect, whole: bool = False) -> list[set[str]]:
    """The head noun of what the question's role predicate governs: "Who led the FCM fighters who …" ->
    {"fighter"}; "Who is the leader of the Teral Liberation Army?" -> {"armi", "tla"}; `whole`: every term of
    a name ("the Friends of Wenlow Library" is said as "the Friends")."""
    tokens = _tokens(question)
    at = _predicate_at(e.predicate[:1], tokens)
    if not at:
        return []
    words: list[str] = []
    for w, _, _ in tokens[at[0] + 1:]:
        if not words and (w in _DETERMINERS or w in _PREPOSITIONS or w in _AUX):
            continue
        if w in {"who", "which", "that", "when", "where", "now", "today", "currently", "at", "in", "on", "during",
                 "before", "after", "since"} or w in _AUX:
            break
        words.append(w)
    owned = [j for j, w in enumerate(words) if re.search(r"['’]s$", w)]
    words = words[owned[-1] + 1:] if owned else words  # "the Legion's checkpoint": the checkpoint
    if not words:
        return []
    said = {fold(w): w for w in re.findall(r"[\w'’\-]+", question[tokens[at[0]][2]:])}
    caps = [said.get(w, w) for w in words if said.get(w, w)[:1].isupper()]
    # "the government side": a common noun is said by any of its words; "the Red Lantern Society" by its head
    head = set(analyze(" ".join(words) if whole else words[-1])) | (
        {"".join(w[0] for w in caps).lower()} if len(caps) >= 2 else set()) \
        if said.get(words[-1], words[-1])[:1].isupper() else set(analyze(" ".join(words)))
    return [head] if head else []


def _body_of_role(s: str, tokens: Sequence[tuple[str, int, int]], p: int, cand: tuple[int, int],
                  heads: Sequence[set[str]]) -> bool:
    """Where a role verb ties the candidate to a body — "THE DELEGATION will be led by X", "X commands
    THE REGIMENT" — that body is one the question names (by its head word or initials) or stands for
    it ("the group", "it"); "a team of Red Lantern engineers led by X" does not say who heads the Society."""
    if not heads or not _ROLE_VERB.fullmatch(tokens[p][0]):
        return True
    a, b = cand
    verb_a, verb_b = tokens[p][1], tokens[p][2]
    if p + 1 < len(tokens) and tokens[p + 1][0] == "by" and a >= verb_b:
        lo, _ = _clause_at(s, verb_a)
        # "the Guard said the convoy would be led by X": the convoy, after the verb of speech, is led
        body = re.split(r"\b(?:said|says|told|announced|reported|added|that)\b", s[lo:verb_a])[-1]
        body = re.sub(r"(?:\b(?:is|was|are|were|be|been|being|will|would|has|have|had|to|now|also|currently|"
                      r"reportedly|still)\s+)+$", "", body.strip() + " ", flags=re.I).strip()
    elif b <= verb_a and not (p + 1 < len(tokens) and tokens[p + 1][0] == "by"):
        body = re.split(r"[,;:.]|\s(?:and|but|while|since|after|before|on|in|from|until)\s", s[verb_b:])[0]
    elif b <= verb_a:
        return False  # "the station on Wool Street is commanded by X": what comes before is commanded, X commands
    else:
        return False  # "X led the fighters …, Y told reporters": Y comes after the verb and is not its agent
    words = [w.lower() for w in re.findall(r"[\w'’\-]+", body)]
    if not words:
        return True
    own = set(analyze(body)) | _initials_of(body) | {w for w in re.findall(r"\b[A-Z]{2,6}\b", body)
                                                     for w in [w.lower()]}
    if any(head & own for head in heads):
        return True
    rest = [w for w in words if w not in _DETERMINERS and w not in _AUX]
    if not rest:
        return True
    if not all(w in _ANAPHOR for w in rest):
        return False
    # "the regiment" stands for a regiment, not for the battalion asked about
    kinds = {w for head in heads for w in head} & _UNIT_NOUNS
    return not kinds or not (set(analyze(" ".join(rest))) & _UNIT_NOUNS) or bool(kinds & set(analyze(" ".join(rest))))


_ROLE_PREDICATES = ("lead", "led", "command", "head", "chief", "advis", "spokes", "direct", "govern", "mediat",
                    "run", "deputi", "minist", "presid", "envoy", "ambassador", "negoti", "founder", "found", "chair",
                    "skipper", "captain", "edit", "manag", "mayor", "secretari", "own", "charg", "correspond")


def near_miss(question: str, sentences: Sequence[str], titles: Sequence[str] | None = None,
              spell: Callable[[set[str], set[str]], set[str]] | None = None,
              reported: Sequence[str | None] | None = None) -> bool:
    """The question asks who holds a role for its subject ("Who commands X?", "What is the name of X's
    chief?", "Which agency did P work for?") and no sentence about that subject names anyone holding it:
    the archive does not say, however close the passages are."""
    e = expect(question)
    if e is None or not e.predicate:
        return False
    role = e.kind == "person" and (e.role or e.predicate[0].startswith(_ROLE_PREDICATES))
    employer = e.kind in ("group", "outlet") and e.predicate[0] in ("work", "employ", "serv", "join", "belong")
    outlet = e.kind == "outlet"  # "Which agency quoted / did P speak to …": an outlet is named beside the verb or not
    if not (role or employer or outlet):
        return False
    titles = titles or [""] * len(sentences)
    asked = _asked(question)
    names = _names_in(question)
    reported = reported or [None] * len(sentences)
    now = bool(_NOW.search(question))
    for s, t, day in zip(sentences, titles, reported):
        # the passage's title counts as said: "It came down the quarry road …" under "The first convoy got through"
        if sentence_fit(e, question, f"{s} {t}", t, spell) < 0.5 or not _times_said(question, s, day):
            continue
        found = tied(e, asked, s, names, question, now)
        if found and not (now and role and all(gone(text, sentences) for text, _ in found)):
            return False  # someone holds the role; "now" and every one named has left it: nobody said holds it
    return True


def read(question: str, sentences: Sequence[str], titles: Sequence[str] | None = None,
         order: Sequence[float] | None = None,
         spell: Callable[[set[str], set[str]], set[str]] | None = None,
         reported: Sequence[str | None] | None = None) -> Lead | None:
    """The direct answer to `question` from `sentences` (best first when `order` is None; else `order`
    gives each sentence's rating, higher first), or None when no sentence states it plainly enough.
    `reported` are the sentences' report dates: a "when" answer read as "on Thursday" is the day it names
    counted back from its report's date, said in full ("20 March 2025")."""
    e = expect(question)
    if e is None or not sentences:
        return None
    titles = titles or [""] * len(sentences)
    asked = _asked(question)
    names = _names_in(question)
    speaker = _speaker(question)
    now = e.kind == "person" and bool(_NOW.search(question))
    rating = list(order) if order is not None else [-float(i) for i in range(len(sentences))]
    ranked = sorted(range(len(sentences)), key=lambda i: -rating[i])[:8]
    found: list[Lead] = []
    for rank, i in enumerate(ranked):
        s = sentences[i]
        fit = sentence_fit(e, question, s, titles[i], spell)
        day = reported[i] if reported is not None else None
        when = f"{s} {_date_words(day)}"  # the report's month and year count as said
        if fit < LIMITS.fit or not _times_said(question, s, day) or not _names_said(names, when, titles[i], spell, e):
            continue  # a sentence about another subject ("in Velna" for a question about Brask) answers nothing
        if not _figures_said(question, when):
            continue  # "which outlet had 40 dead" is not answered by a sentence without the 40
        if speaker and speaker not in analyze(s):
            continue  # "did the hospital director say": the health ministry's figure is not his
        scored = tied(e, asked, s, names, question, now)
        if scored is None:
            continue
        if e.kind == "date":  # the day each phrase names; one that cannot be told is no answer
            day = reported[i] if reported is not None else None
            days = [(text, dist, resolve_day(text, day) or _days_back(text, day)) for text, dist in scored]
            scored = [(text if _whole_date(text) else spoken_date(iso), dist) for text, dist, iso in days if iso] + \
                [(text, dist) for text, dist, iso in days if iso is None and re.search(r"\b\d{4}\b", text)]
        best: tuple[float, str] | None = None
        second = None
        for text, dist in scored:
            score = fit * 2 - 0.1 * dist - 0.15 * rank
            if best is None or score > best[0]:
                second, best = best, (score, text)
            elif second is None or score > second[0]:
                second = (score, text)
        if best is None:
            continue
        if second is not None and best[0] - second[0] < LIMITS.tie and not _same(second[1], best[1]):
            return None  # two candidates read alike: no lead is better than a wrong one
        gap = min(1.0, best[0] - second[0]) if second is not None and not _same(second[1], best[1]) else 1.0
        found.append(Lead(best[1], i, best[0], gap))
    if not found:
        return None
    found.sort(key=lambda f: -f.score)
    top = found[0]
    rivals = [f for f in found[1:] if not _same(f.text, top.text) and top.score - f.score < LIMITS.rival]
    if rivals:
        return None
    others = [top.score - f.score for f in found[1:] if not _same(f.text, top.text)]
    top = Lead(top.text, top.sentence, top.score, min([top.margin, 1.0, *others]))
    if e.kind == "person" and _NOW.search(question) and gone(top.text, sentences):
        return None  # "Who is the media adviser now?": not the one a report says has left the post
    if e.kind == "date":
        iso = parse_date(top.text)
        if iso is None and not re.search(r"\d{4}", top.text):
            return None  # "on Sunday" alone is no answer to "when"; the sentence leads instead
    return top


_NOW = re.compile(r"\b(?:now|currently|current|today|at present|still)\b|^\s*who\s+(?:is|are)\b", re.I)
_GONE = r"(?:left\s+(?:her|his|the)\s+(?:post|job|position|role)|resigned|stepped\s+down|quit|retired|" \
        r"(?:was|were|has been|had been)\s+(?:dismissed|sacked|fired|removed|replaced|ousted|killed|arrested|" \
        r"suspended)|died)"


def gone(name: str, sentences: Sequence[str]) -> bool:
    """Whether a sentence says `name` has left the post: resigned, stepped down, was replaced, dismissed,
    killed … ("The ministry's media adviser, Ines Caro, left her post in August.")."""
    last = re.escape(name.split()[-1])
    pattern = re.compile(rf"\b{last}\b(?:(?!\b(?:said|says|told|added|reported)\b)[^.;]){{0,60}}?\b{_GONE}\b|"
                         rf"\b(?:replaced|succeeded|dismissed|sacked|"
                         rf"fired|ousted)\s+(?:[^.;]{{0,30}}?)\b{last}\b", re.I)
    return any(pattern.search(s) for s in sentences)


def leading_sentence(question: str, sentences: Sequence[str], rating: Sequence[float]) -> int:
    """The sentence an answer without a direct answer opens with: the best-rated one that holds a phrase of
    the expected type and says the predicate ("when …" leads with the sentence dating that event), else
    the best-rated one."""
    best = max(range(len(sentences)), key=lambda i: rating[i])
    e = expect(question)
    if e is None:
        return best
    top = rating[best]
    for i in sorted(range(len(sentences)), key=lambda i: -rating[i])[:6]:
        if rating[i] < top - 3.0:
            break
        tokens = _tokens(sentences[i])
        if candidates(e.kind, sentences[i]) and (not e.predicate or e.counted or _predicate_at(e.predicate, tokens)):
            return i
    return best


def titled_surname(name: str) -> str | None:
    """The surname of a title and a surname ("Mayor Brill" -> "Brill"), to be said in full where a report
    does; None for any other name."""
    words = name.split()
    return words[1] if len(words) == 2 and fold(words[0]).strip(".") in _TITLE_WORDS else None


def compositional(question: str) -> bool:
    """A question built from several reports' facts ("Which company, reported by TechCrunch for X and by
    The Verge for Y, …"): long, with clauses of its own. Only such a question may take its short answer from
    the name the reports share rather than from one sentence that says it."""
    return len(re.findall(r"[\w'’\-]+", question)) >= 18


def says_predicate(question: str, sentence: str) -> bool:
    """Whether the sentence says what the question asks about: its predicate (or a form reports use for it),
    when it has one."""
    e = expect(question)
    return e is None or not e.predicate or e.counted or bool(_predicate_at(e.predicate, _tokens(sentence)))


def kind_fits(kind: Kind, name: str, texts: Sequence[str]) -> bool:
    """Whether the passages treat `name` as the kind of thing asked for: a person is spoken of as one (a title
    before, a verb of speech or an apposition after) and is never a place; a place follows "in", "at", "near" …
    in most mentions or ends in a place word; a news outlet is a known agency or ends in "News", "Times" …; a
    group or company is none of the others; a ship or weapon is written as one ("MV …", "T-72")."""
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    mentions = [(t, m.start(), m.end()) for t in texts for m in pattern.finditer(t)]
    if not mentions:
        return False
    place = sum(_is_place(t, name, a, b) for t, a, b in mentions) * 2 > len(mentions)
    person = any(_said_as_person(t, a, b) for t, a, b in mentions)
    if kind == "person" and all(fold(w).strip(".") in _TITLE_WORDS for w in name.split()):
        return False  # "Deputy Minister" is a title, not whom it names
    if kind == "person":  # "the Southern Shield said": a determiner before a name makes it a body, not a person
        determined = any(re.search(r"\b(?:the|a|an)\s+$", t[max(0, a - 5):a], re.I) for t, a, _ in mentions)
        return not place and person and not determined and _is_person_shape(name) and not _is_group(name) \
            and not _is_outlet(name) \
            and fold(name.split()[-1]) not in _PLACE_TAIL
    if kind == "place":
        return place and not person
    if kind == "outlet":
        return _is_outlet(name)
    if kind == "vessel":
        return any(_is_vessel(t, name, a) for t, a, _ in mentions)
    if kind == "group":
        return not place and not _is_outlet(name) and (_is_group(name) or not _is_person_shape(name))
    return False
