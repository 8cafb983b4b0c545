"""Talk around a claim is set aside; clauses are judged alone only where that is safe."""

from __future__ import annotations

import pytest

from shared.schemas import Mark
from worker.ai.clauses import firmly_resolved, named_subject, read, resolve_pronoun
from worker.model import Judge


@pytest.mark.parametrize(
    ("sentence", "claim"),
    [
        ("Forwarded as received: Smoking causes lung cancer.", "Smoking causes lung cancer."),
        ("my science teacher said sound travels faster in water", "Sound travels faster in water"),
        ("Grandma always says the Ganga begins at Gangotri", "The Ganga begins at Gangotri"),
        ("my gym coach keeps saying muscles need protein", "Muscles need protein"),
        ("ngl didnt know octopuses have three hearts lol 🐙", "Octopuses have three hearts"),
        ("Some WW2 basics: the war began in 1939.", "The war began in 1939."),
        # A longer heading that names its topic; a heading with a verb stays.
        ("Fun animal facts for the kids: Blue whales are mammals.", "Blue whales are mammals."),
        ("My teacher told the class this: the Sun is a star.",
         "My teacher told the class this: the Sun is a star."),
        ("wait so the pacific is the biggest ocean?? always thought it was the atlantic 😅",
         "The pacific is the biggest ocean"),
        ("cheetah is the fastest land animal no cap 🐆", "Cheetah is the fastest land animal"),
        ("tbh still blows my mind that octopuses have three hearts", "Octopuses have three hearts"),
        ("Edison Invented The Telephone, Historians Say", "Edison Invented The Telephone"),
        # "did you know X" asks nothing: the writer states X
        ("Did you know the Great Wall of China is visible from space?",
         "The Great Wall of China is visible from space"),
        ("lol did u know that bulls hate the colour red 🐂", "Bulls hate the colour red"),
    ],
)  # fmt: skip
def test_the_claim_is_read_out_of_the_talk(sentence: str, claim: str) -> None:
    assert read(sentence).claim == claim


@pytest.mark.parametrize(
    "sentence",
    ["Stay safe 🙏", "Share with loved ones 💐", "Good morning 🌞 Did you know?",
     "Went to Agra last weekend!", "lol 😂😂", "Forward this to everyone you know"],
)  # fmt: skip
def test_talk_alone_holds_no_claim(sentence: str) -> None:
    assert read(sentence).claim == ""


@pytest.mark.parametrize(
    "sentence",
    [
        # Unrecognised clauses stay: nothing checkable is dropped.
        "In 1969, Apollo 11 landed on the Moon.",
        "My cousin lives in Ottawa.",
        "The speed of light is about 300,000 km per second.",
        "I think the earth is flat",  # a belief: strip_belief's business, not talk
    ],
)
def test_what_may_be_a_claim_is_kept_whole(sentence: str) -> None:
    reading = read(sentence)
    assert reading.claim == sentence
    assert reading.parts == () or len(reading.parts) > 1


def test_clauses_are_the_parts_of_a_sentence() -> None:
    reading = read("bulls go crazy at the colour red thats why matadors use red capes 🐂")
    assert reading.parts == ("bulls go crazy at the colour red", "thats why matadors use red capes")


@pytest.mark.parametrize(
    "text",
    [
        "the moon makes its own light thats why it glows at night 🌕",
        # A subject ending in -ing is no participle leaning on another clause: a finite
        # verb follows it.
        "lightning never strikes the same place twice so the safest spot is where it hit",
    ],
)
def test_one_false_clause_makes_the_sentence_incorrect(offline_judge: Judge, text: str) -> None:
    [verdict] = offline_judge.judge([text])
    assert verdict.mark is Mark.INCORRECT


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            # A clause that debunks keeps the false one from counting.
            "the moon makes its own light, that is a myth people keep repeating",
            id="debunked",
        ),
        pytest.param(
            # A clause without its own subject is not judged alone: "beating Sri Lanka …"
            # read alone looks like a claim about Sri Lanka's own win.
            "Then in 2011 they won the ODI World Cup at home, beating Sri Lanka in the final.",
            id="no-subject-of-its-own",
        ),
        pytest.param(
            # "It" read as what the sentence before named confirms but never refutes: "It"
            # is the war, not Pearl Harbor; read as Pearl Harbor, 1945 would contradict.
            "Pearl Harbor was attacked in December 1941. It ended in 1945, with Japan's surrender.",
            id="it-resolved",
        ),
    ],
)
def test_a_clause_that_would_refute_alone_does_not(offline_judge: Judge, text: str) -> None:
    [verdict] = offline_judge.judge([text])
    assert verdict.mark is not Mark.INCORRECT


def test_talk_is_set_aside_beside_a_claim(offline_judge: Judge) -> None:
    [verdict] = offline_judge.judge(["🚭 Smoking causes lung cancer. Forward this to everyone 🙏"])
    assert verdict.mark is Mark.CORRECT
    [alone] = offline_judge.judge(["Good morning 🌞 Stay safe 🙏"])
    assert alone.mark is Mark.INSUFFICIENT
    # Talk beside opinions leaves opinions: nothing checkable was said.
    [opinions] = offline_judge.judge(
        ["Just finished rewatching the films. Honestly the third one is the best of the lot."]
    )
    assert opinions.mark is Mark.SUBJECTIVE
    assert "opinions" in opinions.reason


@pytest.mark.parametrize(
    "text", ["Shah Rukh ki movies sabse best hoti hai bhai", "chai coffee se kahin better hai"]
)
def test_a_hinglish_ranking_of_taste_is_an_opinion(offline_judge: Judge, text: str) -> None:
    """The gloss reads "sabse" as "most" and "se" as "than"; the cue is in the Hinglish."""
    [verdict] = offline_judge.judge([text])
    assert verdict.mark is Mark.SUBJECTIVE


def test_a_doubter_frames_the_claim_the_writer_holds() -> None:
    reading = read("lol my lil bro didnt believe me that tomatoes are technically a fruit")
    assert reading.claim == "Tomatoes are technically a fruit"


def test_it_is_read_as_what_the_sentence_before_named() -> None:
    subject = named_subject("The Taj Mahal was built by Shah Jahan.")
    assert subject is not None and subject.name == "The Taj Mahal"
    assert resolve_pronoun("It's made of white marble.", subject) == (
        "The Taj Mahal is made of white marble."
    )
    assert resolve_pronoun("It's made of white marble.", None) == "It's made of white marble."


def test_he_she_and_they_stand_for_what_they_can() -> None:
    gandhi = named_subject("Mahatma Gandhi led the Salt March in 1930.")
    assert resolve_pronoun("He was born in Porbandar.", gandhi) == (
        "Mahatma Gandhi was born in Porbandar."
    )
    # After a verb of doing, "It" is what was done, not the doer.
    assert resolve_pronoun("It was finished in 1653.", named_subject("Shah Jahan built it.")) == (
        "It was finished in 1653."
    )
    plants = named_subject("Plants are amazing.")
    assert resolve_pronoun("They make their own food.", plants) == "Plants make their own food."
    taj = named_subject("The Taj Mahal is white.")
    assert resolve_pronoun("He was born in 1869.", taj) == "He was born in 1869."
    assert resolve_pronoun("They are white.", taj) == "They are white."
    assert firmly_resolved("He was born in Porbandar.")
    assert not firmly_resolved("It was finished in 1653.")


def test_a_contradiction_must_hold_in_one_clause(offline_judge: Judge) -> None:
    [verdict] = offline_judge.judge(
        ["Humans never lived alongside the dinosaurs — the non-avian ones died out about "
         "66 million years ago."]
    )  # fmt: skip
    assert verdict.mark is not Mark.INCORRECT
    [contrast] = offline_judge.judge(["The Earth is a sphere, not a flat disc."])
    assert contrast.mark is Mark.CORRECT


def test_a_dated_prediction_is_never_settled_by_a_known_fact(offline_judge: Judge) -> None:
    [verdict] = offline_judge.judge(["Next year's monsoon will reach Kerala around 1 June."])
    assert verdict.mark is Mark.INSUFFICIENT
    assert "until it happens" in verdict.reason
