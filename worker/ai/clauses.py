"""What in a sentence is a claim, and what is talk around it.

People wrap claims in talk: "ngl didn't know honey never spoils 🍯", "Forward this to
everyone 🙏", "Went to Agra last weekend!", "Some WW2 basics: the war began in 1939".
The talk is not checkable, and left in it makes the claim look like "something else"
to the stance check. Only talk recognised by a positive cue is set aside (a personal
aside, an appeal to share, a greeting, a heading, a belief the writer gave up); an
unrecognised clause always stays part of the claim, so nothing checkable is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from .wording import FILLERS, words

# Emoji and pictographs: people use them as punctuation.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2190-\u21ff\u2300-\u23ff\ufe0f\u200d]+"
)
# Where a clause ends: punctuation inside a sentence, a dash, an ellipsis, or a word that
# starts an aside ("btw", "lol") or a consequence ("so", "that's why").
_BOUNDARY = re.compile(
    r"\s*(?:,(?!\d{3}\b)|[;|]|\s[-–—]\s|\.{2,}|…|[!?]+(?=\s|$)|(?<=\S)\.(?=\s+[a-z]))\s*"
    r"|\s+(?=(?:so(?!\s+(?:many|much|few|little|far|long|very|that|well|\w+ly)\b)|but"
    r"|thats why|that's why|which is why|btw|lol|lmao|smh)\b)",
    re.I,
)
# "Some WW2 basics:", "Health alert:": a short heading without a verb before a colon.
_HEADING = re.compile(r"^\s*([^:.!?]{1,48}):\s+(?=\S)")
_VERB = re.compile(
    r"\b(?:is|are|was|were|be|been|has|have|had|will|would|can|could|does|do|did|says?|said)\b",
    re.I,
)
# "didn't know X", "TIL X", "still blows my mind that X", "did you know X?": the writer
# takes X as true; X is the claim.
_FACTIVE = re.compile(
    r"^\s*(?:(?:i|we)\s+)?(?:(?:did not|didnt|never)\s+(?:know|knew|realise|realize)"
    r"|(?:did|do)\s+(?:you|u|ya|y[’']?all)\s+(?:know|realise|realize)"
    r"|(?:just\s+)?(?:learned|learnt|found out)(?:\s+today)?|today i learned|til"
    r"|(?:it\s+)?(?:still\s+)?blows my mind|(?:it[’']?s\s+)?(?:crazy|wild|insane|amazing|funny)"
    r"(?=\s+(?:that|how)\b))(?:\s+(?:that|how))?\s+",
    re.I,
)
# Slang that vouches for a claim and says nothing of it ("no cap": no lie).
_VOUCHING = re.compile(r"\b(?:no cap|frfr|fr fr|deadass|for real)\b", re.I)
# "my bro didn't believe me that X": the writer holds X; X is the claim.
_DOUBTED = re.compile(
    r"^\s*(?:[\w'’]+\s+){0,5}?(?:did not|didnt|didn[’']t|does not|doesnt|doesn[’']t|do not"
    r"|dont|don[’']t|would not|wouldnt|wouldn[’']t)\s+(?:believe|think)(?:\s+(?:me|us))?"
    r"\s+(?:that\s+)?(?=\S)",
    re.I,
)
# "my science teacher said X", "Grandma always says X": X is the claim someone passed on.
_REPORTED = re.compile(
    r"^\s*(?:[\w'’]+\s+){1,5}?(?:always\s+|once\s+)?(?:said|says|say|told (?:me|us)|tells (?:me|us)"
    r"|keeps? saying|kept saying|used to say|put it)(?:\s+that)?[\s,:]+(?=\S)",
    re.I,
)
# Talk around a claim, recognised by how it starts (after fillers and "so"/"but").
_TALK = re.compile(
    r"^(?:"
    # a belief the writer gave up: "always thought it was the Atlantic"
    r"(?:(?:i\s+)?(?:always|never)\s+thought\b"
    r"|(?:i\s+)?(?:used to|once)\s+(?:think|thought|believe)\b)"
    # a diary, its subject left out: "Went to Agra last weekend", "Visited Rajasthan"
    # (a statement about the writer's own life, "My cousin lives in Ottawa", stays a
    # claim: one nobody else can check)
    r"|(?:went|visited|watched|reached|travelled|traveled|spent)\b"
    # "Been reading about …", "Just finished rewatching …", "Made idli today",
    # "Studying the freedom struggle today"
    r"|(?:been|just|finished)\s+(?:reading|studying|watching|learning|finished|rewatching|revising)\b"
    r"|(?:studying|revising|reading|rewatching|made|cooked|tried|baked)\b(?=.*\b(?:today"
    r"|tonight|yesterday|this (?:morning|week|weekend)|last (?:night|week|weekend|month)))"
    # appeals and greetings: "Share with loved ones", "Stay safe", "Good morning"
    r"|(?:please|pls|plz|share|forward|tag|send|spread|subscribe|follow|stay safe"
    r"|good (?:morning|night|evening)|happy \w+day|thanks|thank you|congrats|rip|jai \w+"
    r"|wake up|must read|read this|urgent|breaking|alert|proud moment"
    r"|(?:did|do) (?:you|u|ya) know$"
    r"|mind blown|wild|crazy|wow|omg|haha\w*|yay)\b"
    # a headline's attribution after its claim: "…, Experts Confirm", "…, Historians Say",
    # "…, NASA Report Says"
    r"|(?:[\w'’]+\s+){1,3}(?:confirm|say|said|show|reveal|find|warn|claim|suggest|prove"
    r"|reiterate|report|insist|admit|agree)s?\s*$"
    r")",
    re.I,
)
_INTERJECTIONS = frozenset(
    "wait ok okay yes no wow omg lol lmao rofl haha hahaha hehe yay ugh whoa damn bro "
    "bhai yaar dude guys folks friends everyone ji please pls plz urgent".split()
)


# A named subject before its verb ("The Taj Mahal was built …", "Mahatma Gandhi led …"),
# for an "It …", "He …" or "They …" after it. After a verb of doing, "It" is what was
# done, not the doer ("Shah Jahan built it. It was finished in 1653").
_NAMED_SUBJECT = re.compile(
    r"^((?:The\s+)?[A-Z][\w’'-]*(?:\s+(?:of\s+)?[A-Z][\w’'-]*)*)\s+"
    r"(?:(is|are|was|were|has|have|had|can|will|does|did|stands|lies)"
    r"|led|won|wrote|became|built|made|founded|ruled|invented|discovered|[a-z]+ed)\b"
)
_PRONOUN = re.compile(
    r"^(?:And\s+|Also\s+)?(?:(It|He|She|They)\s+(?:is|are|was|were|has|have)\b|(It|He|She|They)[’']s"
    r"|(It|He|She|They)\b)"
)
# Who a pronoun can stand for: "He"/"She" a person's name (two capitalised words, no
# "The"), "They" a plural ("Plants", "The Incas"), "It" whatever was named.
_PERSON = re.compile(r"^(?!The\s)[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)+$")
_PLURAL = re.compile(r"[^s]s$")


class Subject(NamedTuple):
    name: str
    it: bool  # an "It" after it may stand for it (it was named before "is", "was", …)


def named_subject(sentence: str) -> Subject | None:
    """ "The Taj Mahal" for "The Taj Mahal was built by Shah Jahan."; None unless the
    sentence opens with a capitalised name and its verb."""
    match = _NAMED_SUBJECT.match(sentence.strip())
    return Subject(match.group(1), match.group(2) is not None) if match else None


def firmly_resolved(sentence: str) -> bool:
    """A "He"/"She" read as the person the sentence before named is nearly always
    right; an "It" or "They" may mean something else there (then it only confirms)."""
    match = _PRONOUN.match(sentence.strip())
    return match is not None and next(g for g in match.groups() if g) in ("He", "She")


def resolve_pronoun(sentence: str, subject: Subject | None) -> str:
    """ "The Taj Mahal is made of white marble" for "It's made of white marble" after a
    sentence about the Taj Mahal: in a post, a pronoun opening a sentence is what the
    one before it named, where it can be ("He" a person, "They" a plural)."""
    match = _PRONOUN.match(sentence.strip()) if subject else None
    if not match or subject is None:
        return sentence
    pronoun = next(g for g in match.groups() if g)
    fits = {
        "It": subject.it,
        "He": bool(_PERSON.match(subject.name)),
        "She": bool(_PERSON.match(subject.name)),
        "They": bool(_PLURAL.search(subject.name)),
    }
    if not fits[pronoun]:
        return sentence
    said = match.group(0).split()[-1]
    verb = " is" if said.endswith(("’s", "'s")) else "" if said == pronoun else " " + said
    return subject.name + verb + sentence.strip()[match.end() :]


@dataclass(frozen=True, slots=True)
class Reading:
    """A sentence read for its claim: ``claim`` without the talk around it (empty when
    it is all talk), ``parts`` its clauses that remain (two or more, else empty)."""

    claim: str
    parts: tuple[str, ...]


# A topic line, no verb: "Tech history time", "Space thread", "Quick history recap for
# my exam tomorrow".
_TOPIC = re.compile(
    r"^(?:[\w'’]+\s+){0,3}(?:time|thread|recap|revision|trivia|facts|notes|update|basics"
    r"|roundup|summary|lesson)(?:\s+(?:for|before)\b.*)?$"
)


def _is_talk(clause: str) -> bool:
    tokens = [t for t in words(clause) if t not in FILLERS and t not in {"so", "but"}]
    if not tokens:
        return not re.search(r"\d", clause)  # "lol 😂" is talk; "1969" is not
    if all(t in _INTERJECTIONS for t in tokens):
        return True
    joined = " ".join(tokens)
    return bool(_TALK.match(joined) or (_TOPIC.match(joined) and not _VERB.search(joined)))


# Words people open with that say nothing: "ngl", "wait so", "bro".
_OPENERS = re.compile(
    r"^(?:(?:ngl|tbh|btw|fyi|lol|omg|bro|bhai|yaar|dude|guys|wait|ok|okay|so|honestly"
    r"|literally|basically|fun fact)\b[\s,:!]*)+",
    re.I,
)


def _strip_frames(text: str) -> str:
    text = _OPENERS.sub("", text, count=1)
    heading = _HEADING.match(text)
    if heading and not _VERB.search(heading.group(1)):
        label = heading.group(1)
        # A short heading, or a longer one that names its topic ("Fun animal facts for
        # the kids:").
        if len(label.split()) <= 5 or _TOPIC.match(" ".join(words(label))):
            text = text[heading.end() :]
    text = _DOUBTED.sub("", _FACTIVE.sub("", text, count=1), count=1)
    return _REPORTED.sub("", text, count=1)


def read(sentence: str) -> Reading:
    """The claim in ``sentence`` (see the module docstring)."""
    text = _VOUCHING.sub(" ", _EMOJI.sub(" | ", sentence))
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        pieces.append(text[start : match.start()])
        start = match.end()
    pieces.append(text[start:])
    kept: list[str] = []
    framed = False
    for piece in pieces:
        piece = piece.strip()
        stripped = _strip_frames(_strip_frames(piece))
        framed |= stripped != piece
        piece = stripped
        lead = re.match(r"^(?:so|but|and)\s+", piece, re.I)
        core = piece[lead.end() :] if lead else piece
        if core and not _is_talk(core):
            kept.append(core if not kept else piece)
    if not kept:
        return Reading("", ())
    if len(kept) == len(pieces) and not framed:
        # Nothing set aside: the sentence as written (its own punctuation) is the claim.
        return Reading(" ".join(sentence.split()), tuple(kept) if len(kept) > 1 else ())
    claim = ", ".join(kept)
    return Reading(claim[0].upper() + claim[1:], tuple(kept) if len(kept) > 1 else ())


# A clause that leans on another for its subject ("they won …", "beating Sri Lanka …",
# "which brought …", "with Germany …") says nothing false on its own.
_LEAD = r"^\W*(?:(?:so|but|and|then|thats why|that's why)\s+)*"
_DEPENDENT = re.compile(
    _LEAD + r"(?:it|its|it's|they|them|their|he|she|his|her|this|that|these|those|which|who"
    r"|whom|where|when|while|with|without|in|on|at|by|for|from|of|to|as|than|not)\b",
    re.I,
)
# An opening -ing word is a participle leaning on another clause ("beating Sri Lanka …")
# unless a finite verb follows it: then it is the subject ("Lightning never strikes …",
# "Smoking causes …").
_PARTICIPLE = re.compile(
    _LEAD + r"\w+ing\b(?!\s+(?:(?:never|always|often|also|only|not|usually|rarely|really"
    r"|actually|literally|basically|sometimes)\s+)?(?:is|are|was|were|has|have|had|can"
    r"|could|will|would|may|might|must|should|does|do|did"
    r"|(?!its\b|this\b|thus\b|plus\b)\w+[^s\W]s)\b)",
    re.I,
)


def leans_on_another(clause: str) -> bool:
    """A clause that leans on another for its subject (``_DEPENDENT``, ``_PARTICIPLE``)."""
    return bool(_DEPENDENT.match(clause) or _PARTICIPLE.match(clause))
