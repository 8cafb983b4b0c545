"""Which sentences state a checkable fact, and which an opinion, prediction or advice.

A transparent cue list rather than a model: each Subjective verdict names the cue that
made it (a plain prediction is checkable later: Insufficient, not Subjective), and a
belief hedge ("I think that …") is peeled off so the claim inside is still checked
against the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

from .wording import expand_contractions

Kind = Literal["opinion", "prediction", "advice"]

_EVALUATIVE = (
    "beautiful|ugly|gorgeous|pretty|delicious|tasty|yummy|disgusting|gross|boring|dull|"
    "exciting|fascinating|amazing|awesome|incredible|wonderful|fantastic|terrible|horrible|"
    "awful|dreadful|brilliant|excellent|superb|overrated|underrated|pointless|useless|"
    "stupid|dumb|silly|ridiculous|cool|fun|funny|lovely|nice|nicer|nicest|perfect|pathetic|"
    "disappointing|impressive|annoying|cute|adorable|elegant|charming|pleasant|unpleasant|"
    "enjoyable|relaxing|stylish|tasteless|worthless|magnificent|spectacular|stunning|"
    "breathtaking|masterpiece|genius|worst(?!-)|greatest|favou?rite|romantic|moving|"
    "inspiring|iconic|overhyped|"
    "pretentious|overpriced|overpaid|underpaid|unfair|rude|lazy|smartest|coolest|"
    "prettiest|ugliest|tastiest|funniest|loveliest|superior|inferior|waste of|"
    # as people post them, and in Hinglish ("bekaar", "bakwas": useless, rubbish)
    "elite|goat|mid|trash|cringe|sucks|cooler|smarter|bekaar|bakwas|"
    "fight me|hot take|unpopular opinion|nobody comes close|no one comes close"
)
_JUDGING_VERB = r"is|are|was|were|be|the|makes?|tastes?|looks?|sounds?|feels?"
_PREFERENCE = r"(love|hate|like|prefer|enjoy|adore|dislike|admire)"
_FUTURE = (
    r"next (year|month|week|decade|century|season)|one day|someday"
    r"|in the (near |coming )?future|by 20[3-9]\d|by 2[1-9]\d\d"
)
_DATED = re.compile(
    rf"\b(?:{_FUTURE}|tomorrow|tonight|this (?:year|month|week|weekend|season|summer|winter)"
    r"|next (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|on (?:monday|tuesday"
    r"|wednesday|thursday|friday|saturday|sunday))\b",
    re.I,
)
_CUES: tuple[tuple[Kind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.I))
    for kind, pattern in cast(
        "tuple[tuple[Kind, str], ...]",
        (
            ("opinion", rf"\b({_EVALUATIVE})\b"),
            # "is better than" judges; "conducts better than" compares a measurable thing.
            ("opinion", rf"\b({_JUDGING_VERB})( \w+)? (best|better|worse)\b(?!-)"),
            ("opinion", r"\bever (seen|tasted|heard|read|had|been|visited|watched|played)\b"),
            # "chai coffee se better hai", "Goa se behtar": a Hinglish comparison of taste.
            (
                "opinion",
                r"\bse (?:(?:kahin|kahi|kaafi|bahut|zyada|jyada|thoda) )*"
                r"(better|behtar|accha|acha|achha|badhiya)\b",
            ),
            # "SRK ki movies sabse best hain": "the best of all", a ranking of taste.
            (
                "opinion",
                r"\bsabse (?:zyada |jyada )?(best|behtar|accha|acha|achha|badhiya"
                r"|bekaar|bakwas|bura|worst|pyaara|pyara|sundar|mast)\b",
            ),
            # "mumbai street food > delhi street food": a ranking, not a measurement.
            ("opinion", r"[^\W\d_]\s*>\s*[^\W\d_]"),
            ("opinion", rf"\b(i|we) (really |truly |just )?{_PREFERENCE}\b"),
            ("opinion", r"\b(deserves?|deserved)\b|\bmakes? me (feel )?\w+"),
            ("advice", r"\b(should|ought to|had better)\b"),
            ("advice", r"\b(everyone|everybody|people|you|we) (must|need to|have to)\b"),
            ("advice", r"\b(must|needs? to) be (banned|stopped|allowed|legal|illegal|abolished)\b"),
            (
                "prediction",
                r"\b(will|gonna)\b|\bgoing to (?!(the|a|an|my|your|his|her|their|our)\b)",
            ),
            ("prediction", rf"\b({_FUTURE})\b"),
        ),
    )
)
_BELIEF = re.compile(
    r"^\s*(?:(?:i|we)\s+(?:really\s+|strongly\s+|honestly\s+)?"
    r"(?:think|believe|reckon|guess|suppose|feel|am sure|am convinced|bet)(?:\s+that)?"
    r"|in my (?:opinion|view)|personally|to me|imo|honestly)[\s,:]+",
    re.I,
)
# Reporting, not judging: "Fun fact: …", "I read that …", "Apparently, …".
_REPORT = re.compile(
    r"^\s*(?:fun fact|did you know(?: that)?|til|fyi|apparently|reportedly"
    r"|i (?:read|heard) that|(?:i )?(?:love|loving) this(?: one)?)[\s,:]+",
    re.I,
)


# A prediction offered as a personal guess is an opinion about the future; a plain one
# ("the album will be released on Friday") is a claim that cannot be checked yet.
_GUESS = re.compile(
    r"\b(mark my words|i (can )?feel it|i (bet|reckon|guess|hope|predict|expect)|probably"
    r"|maybe|perhaps|hopefully|i am (sure|certain|confident)|no doubt|trust me|imo|imho)\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Subjectivity:
    kind: Kind
    cue: str  # the words that mark it, quoted in the reason
    guess: str | None = None  # for a prediction: the words that make it a personal guess
    # For a prediction: it names when ("next year", "tomorrow"): one event to come, never
    # a general fact that happens to use "will".
    dated: bool = False


def subjectivity(sentence: str) -> Subjectivity | None:
    """The first opinion, advice or prediction cue in ``sentence``; None for a plain
    statement (which may still be a belief: see ``strip_belief``)."""
    text = expand_contractions(sentence)
    for kind, pattern in _CUES:
        match = pattern.search(text)
        if match:
            guess = _GUESS.search(text) if kind == "prediction" else None
            dated = kind == "prediction" and bool(_DATED.search(text))
            return Subjectivity(kind, match.group(0), guess.group(0) if guess else None, dated)
    return None


def strip_belief(sentence: str) -> tuple[str, str | None]:
    """("the earth is flat", "I think") for "I think the earth is flat"; the hedge is None
    when there is none. The claim inside a belief is still a claim. A reporting prefix
    ("Fun fact:", "Apparently,") is dropped: it states a fact, not a belief."""
    report = _REPORT.match(sentence)
    if report and sentence[report.end() :].strip():
        rest = sentence[report.end() :].strip()
        sentence = rest[0].upper() + rest[1:]
    match = _BELIEF.match(sentence)
    if not match:
        return sentence, None
    rest = sentence[match.end() :].strip()
    if not rest:
        return sentence, None
    return rest[0].upper() + rest[1:], match.group(0).strip(" ,:")
