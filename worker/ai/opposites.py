"""Words that oppose in the word-level check: everyday opposites ("visible" /
"invisible", "northernmost" / "southernmost"), the extremes and their ranks ("the
largest" / "the second-largest"), and modifiers that make their noun something else
("Deputy Prime Minister")."""

from __future__ import annotations

from itertools import pairwise

from .wording import canonical

_MOST = "most|largest|biggest|highest|tallest|longest|heaviest|oldest|fastest|hottest"
_LEAST = "least|smallest|lowest|shortest|lightest|youngest|slowest|coldest"
# The extremes: the opposite of a false "the smallest" is not a true "the largest".
EXTREMES = frozenset(f"{_MOST}|{_LEAST}|first|last".split("|"))
_ANTONYMS = tuple(
    (frozenset(a.split("|")), frozenset(b.split("|")))
    for a, b in (
        ("true|correct|real", "false|wrong|fake"),
        ("only|merely", "more"),
        ("good|excellent|excelled|passed|succeeded", "bad|poor|failed|fail|fails"),
        ("visible", "invisible"),
        ("possible", "impossible"),
        ("more|greater|larger|bigger|higher|taller|longer|heavier|older|faster|warmer|hotter|denser",
         "less|fewer|smaller|lower|shorter|lighter|younger|slower|cooler|colder"),
        (_MOST, _LEAST),
        ("increase|increases|raise|raises|rise|rises",
         "decrease|decreases|lower|lowers|fall|falls|reduce|reduces"),
        ("before|earlier", "after|later"),
        ("north|northern|northernmost", "south|southern|southernmost"),
        ("east|eastern|easternmost", "west|western|westernmost"),
        ("always", "never"),
        ("alive|living", "dead|extinct"),
        ("safe|harmless|healthy", "dangerous|harmful|unhealthy|toxic|poisonous"),
        ("cause|causes|caused", "prevent|prevents|prevented|cure|cures"),
        ("above", "below"),
        ("inside", "outside"),
        ("first", "last"),
        ("hot", "cold"),
        ("male", "female"),
        ("same|matching|alike", "different"),
        ("mammal|mammals", "fish|reptile|reptiles|bird|birds|insect|insects"),
        ("common|commonly|frequent|frequently|often|usual|usually|widespread",
         "rare|rarely|uncommon|seldom|unusual|infrequent"),
        ("mild|minor|slight|slightly|harmless", "severe|serious|dangerously|extreme|deadly"),
        ("fast|quick|quickly|rapid|rapidly|immediately|instantly", "slow|slowly|gradually"),
        ("strong|stronger|strongest", "weak|weaker|weakest"),
        ("front", "back|rear"),
        ("upward|upwards", "downward|downwards"),
        ("summer", "winter"),
        ("wet|rainy|humid", "dry|arid"),
        ("rising|growing|expanding|expands", "shrinking|shrinks|sinking|contracting"),
        ("deep|deeper|deepest", "shallow|shallower|shallowest"),
        ("thick|thicker|thickest", "thin|thinner|thinnest"),
        ("wide|wider|widest", "narrow|narrower|narrowest"),
        ("positive", "negative"),
        ("legal|lawful|allowed|permitted", "illegal|unlawful|banned|prohibited|forbidden"),
        ("natural", "artificial|synthetic|man-made"),
        ("optional|voluntary", "compulsory|mandatory"),
        ("cheap|cheaper|cheapest", "expensive|costlier"),
        ("clockwise", "anticlockwise|counterclockwise"),
        ("acidic", "alkaline"),
    )
)  # fmt: skip
_ANTONYM_WORDS = frozenset().union(*(left | right for left, right in _ANTONYMS))


def antonym_flip(claim: set[str], known: set[str]) -> bool:
    """One sentence has a word the other has the opposite of, and neither has both."""
    # The parts of a compound count: "north-western" / "south-eastern", "lower-pitched".
    claim, known = _with_parts(claim), _with_parts(known)
    for left, right in _ANTONYMS:
        if (claim & left and known & right and not claim & right and not known & left) or (
            claim & right and known & left and not claim & left and not known & right
        ):
            return True
    return False


def opposites_swapped(claim: list[str], known: list[str]) -> bool:
    """Both sentences name both of two opposites, in the other order: "born female, …
    turns male" against "born male, … changes into a female" says the reverse with the
    same words."""
    # This runs for every (known claim, claim) pair a worker weighs, and nearly every
    # sentence names no two such words at all.
    if len(_ANTONYM_WORDS.intersection(claim)) < 2 or len(_ANTONYM_WORDS.intersection(known)) < 2:
        return False
    claim_at, known_at = _first_positions(claim), _first_positions(known)
    for left, right in _ANTONYMS:
        orders = []
        for at in (claim_at, known_at):
            lefts, rights = left & at.keys(), right & at.keys()
            if not lefts or not rights:
                break
            orders.append(min(at[t] for t in lefts) < min(at[t] for t in rights))
        else:
            if orders[0] != orders[1]:
                return True
    return False


def _first_positions(tokens: list[str]) -> dict[str, int]:
    """Where each word first occurs."""
    at: dict[str, int] = {}
    for i, token in enumerate(tokens):
        at.setdefault(token, i)
    return at


# Modifiers that make their noun something else (a deputy prime minister is not a prime
# minister, a replica not the thing), where other modifiers only narrow it ("the
# southern bank" is a bank).
PRIVATIVE = frozenset(
    "deputy vice former acting assistant alleged honorary fake mock imitation counterfeit "
    "replica would-be so-called pseudo ex".split()
)
_RANKS = frozenset(
    "second third fourth fifth sixth seventh eighth ninth tenth 2nd 3rd 4th 5th 6th 7th 8th "
    "9th 10th".split()
)


# "most of Jupiter" quantifies; "first" and "last" are ranks of their own.
_NOT_RANKED = frozenset("most least first last".split())


def _ranked_extremes(tokens: list[str]) -> dict[str, str]:
    """Each extreme a sentence names and its rank: {"largest": "second"} for "the
    second-largest moon" or "the second largest", {"largest": ""} for "the largest"."""
    found: dict[str, str] = {}
    for i, (before, token) in enumerate(pairwise(["", *tokens])):
        rank, _, extreme = token.rpartition("-")
        if tokens[max(0, i - 2) : i] in (["of", "the"], ["among", "the"]):
            continue  # "one of the biggest": among them, at no rank
        if extreme in EXTREMES and extreme not in _NOT_RANKED:
            # One word for one extreme: "the tallest" is ranked against "the second-highest".
            found.setdefault(
                canonical(extreme),
                rank if rank in _RANKS else before if before in _RANKS else "",
            )
    return found


def rank_differs(known: list[str], claim: list[str]) -> bool:
    """ "the largest moon" against "the second-largest moon": another rank, as a wrong
    number is."""
    ours, theirs = _ranked_extremes(claim), _ranked_extremes(known)
    return any(ours[extreme] != theirs[extreme] for extreme in ours.keys() & theirs.keys())


def _with_parts(words: set[str]) -> set[str]:
    return words.union(*(w.split("-") for w in words if "-" in w))
