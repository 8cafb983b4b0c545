"""Reading knowledge-base files: our JSONL, schema.org ClaimReview, bad lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.knowledge import KbFileError, KbRecord, RecordError, claim_key, read_records
from shared.knowledge.records import to_record
from tests.unit.kb_files import assert_unreadable

GOOD = {
    "claim": "The Great Wall of China is visible from the Moon with the naked eye.",
    "verdict": "false",
    "explanation": "Astronauts report it cannot be seen unaided even from low Earth orbit.",
    "source_url": "https://www.nasa.gov/vision/space/workinginspace/great_wall.html",
    "source_name": "NASA",
    "domain": "science",
}


def claim_review(rating: dict[str, Any], **extra: Any) -> dict[str, Any]:
    review: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": "https://factcheck.example/reviews/5g-covid",
        "claimReviewed": "5G networks spread the coronavirus.",
        "author": {"@type": "Organization", "name": "Example Checks"},
        "reviewRating": {"@type": "Rating", **rating},
        "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "someone"}},
        "datePublished": "2020-04-06",
    }
    review.update(extra)
    return review


def write_jsonl(path: Path, items: list[Any]) -> Path:
    path.write_text("\n".join(i if isinstance(i, str) else json.dumps(i) for i in items) + "\n")
    return path


def only_record(item: Any) -> KbRecord:
    result = to_record(item)
    assert isinstance(result, KbRecord), result
    return result


def only_error(item: Any) -> str:
    result = to_record(item)
    assert isinstance(result, RecordError), result
    return result.message


# ------------------------------------------------------------------- our records


def test_our_jsonl_loads_with_line_numbers(tmp_path: Path) -> None:
    second = {**GOOD, "claim": "  Water boils at 100 °C at sea level.  ", "verdict": True}
    path = write_jsonl(tmp_path / "kb.jsonl", [GOOD, "", second])
    results = list(read_records(path))
    assert [where for where, _ in results] == [1, 3]
    first, third = (r for _, r in results)
    assert isinstance(first, KbRecord) and isinstance(third, KbRecord)
    assert first.verdict is False and first.source_name == "NASA" and first.domain == "science"
    assert third.verdict is True
    assert third.claim == "Water boils at 100 °C at sea level."  # stripped


def test_malformed_lines_are_reported_and_the_rest_loads(tmp_path: Path) -> None:
    other = {**GOOD, "claim": "Lightning never strikes the same place twice."}
    path = write_jsonl(
        tmp_path / "kb.jsonl",
        [GOOD, '{"claim": "broken', {**GOOD, "verdict": "maybe"}, "[1, 2]", other],
    )
    results = list(read_records(path))
    assert [where for where, _ in results] == [1, 2, 3, 4, 5]
    errors = {where: r.message for where, r in results if isinstance(r, RecordError)}
    assert set(errors) == {2, 3, 4}
    assert errors[2].startswith("malformed JSON")
    assert "verdict" in errors[3]
    assert "expected a JSON object" in errors[4]
    loaded = [r for _, r in results if isinstance(r, KbRecord)]
    assert [r.claim for r in loaded] == [GOOD["claim"], other["claim"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"claim": "ab"}, "claim"),
        ({"claim": "x" * 1001}, "claim"),
        ({"explanation": "   "}, "explanation"),
        ({"explanation": "x" * 2001}, "explanation"),
        ({"source_url": "ftp://example.org/x"}, "source_url"),
        ({"source_url": "not a url"}, "source_url"),
        ({"source_url": "https://example.org/" + "x" * 2048}, "source_url"),
        ({"verdict": "yes"}, "verdict"),
        ({"verdict": 1}, "verdict"),
        ({"verdict": None}, "verdict"),
        ({"rating": "false"}, "rating"),  # unknown key
    ],
)
def test_invalid_records_name_the_field(change: dict[str, Any], field: str) -> None:
    assert only_error({**GOOD, **change}).startswith(f"{field}:")


@pytest.mark.parametrize("missing", ["claim", "verdict", "explanation", "source_url"])
def test_required_fields(missing: str) -> None:
    item = {k: v for k, v in GOOD.items() if k != missing}
    assert only_error(item).startswith(f"{missing}:")


def test_optional_fields_and_verdict_spellings() -> None:
    record = only_record(
        {
            **GOOD,
            "verdict": " TRUE ",
            "source_name": " ",
            "domain": None,
            "source_url": "http://x.org",
        }
    )
    assert record.verdict is True and record.source_name is None and record.domain is None
    minimal = {k: GOOD[k] for k in ("claim", "verdict", "explanation", "source_url")}
    assert only_record(minimal).source_name is None


def test_claim_key_ignores_case_spacing_and_trailing_punctuation() -> None:
    key = claim_key("The Earth is flat")
    assert claim_key("  the   EARTH is flat.  ") == key
    assert claim_key("The Earth is flat?!") == key
    assert claim_key("The Earth is flat …") == key
    assert claim_key("The Earth is not flat") != key
    assert claim_key("Is the Earth flat") != key
    assert len(key) == 64 and int(key, 16) >= 0
    assert only_record({**GOOD, "claim": "The earth is FLAT."}).key == key


# ----------------------------------------------------------------- ClaimReview


@pytest.mark.parametrize(
    ("name", "verdict"),
    [
        ("True", True),
        ("Correct", True),
        ("Accurate", True),
        ("Mostly true", True),
        ("MOSTLY-TRUE", True),
        ("False", False),
        ("Pants on Fire!", False),
        ("Incorrect", False),
        ("Fake", False),
        ("Mostly false", False),
        ("Hoax", False),
    ],
)
def test_claim_review_rating_names(name: str, verdict: bool) -> None:
    record = only_record(claim_review({"alternateName": name}))
    assert record.verdict is verdict
    assert record.claim == "5G networks spread the coronavirus."
    assert record.source_url == "https://factcheck.example/reviews/5g-covid"
    assert record.source_name == "Example Checks"
    assert record.explanation == f"Rated {name} by Example Checks"


@pytest.mark.parametrize("name", ["Half true", "Mixture", "Unproven", "Misleading"])
def test_claim_review_in_between_ratings_are_rejected(name: str) -> None:
    message = only_error(claim_review({"alternateName": name}))
    assert name in message and "neither true nor false" in message


@pytest.mark.parametrize(
    ("rating", "verdict"),
    [
        ({"ratingValue": 1, "worstRating": 1, "bestRating": 5}, False),
        ({"ratingValue": "5", "worstRating": "1", "bestRating": "5"}, True),
        ({"ratingValue": 4}, True),  # schema.org defaults: worst 1, best 5
        ({"ratingValue": 2}, False),
        ({"ratingValue": 0.9, "worstRating": 0, "bestRating": 1}, True),
        ({"ratingValue": 6, "worstRating": 6, "bestRating": 1}, False),  # reversed scale
        # An unknown label falls back to the number.
        ({"alternateName": "Four Pinocchios", "ratingValue": 1, "bestRating": 5}, False),
    ],
)
def test_claim_review_numeric_ratings(rating: dict[str, Any], verdict: bool) -> None:
    assert only_record(claim_review(rating)).verdict is verdict


@pytest.mark.parametrize(
    "rating",
    [
        {"ratingValue": 3},
        {"ratingValue": 3, "worstRating": 1, "bestRating": 5, "alternateName": "Half true"},
        {"ratingValue": 7, "worstRating": 1, "bestRating": 5},
        {"ratingValue": "n/a"},
        {"ratingValue": 1, "worstRating": 1, "bestRating": 1},
        {},
    ],
)
def test_claim_review_unusable_ratings(rating: dict[str, Any]) -> None:
    message = only_error(claim_review(rating))
    assert "neither true nor false" in message or "neither alternateName" in message


def test_claim_review_explanation_and_author_fallbacks() -> None:
    body = claim_review({"alternateName": "False"}, reviewBody=" There is no mechanism. ")
    assert only_record(body).explanation == "There is no mechanism."
    described = claim_review({"alternateName": "False"}, description="No link was found.")
    assert only_record(described).explanation == "No link was found."
    listed = claim_review(
        {"alternateName": "False"},
        author=[{"@type": "Organization"}, {"@type": "Organization", "name": "Second"}],
    )
    assert only_record(listed).source_name == "Second"
    anonymous = claim_review({"alternateName": "False"}, author=None)
    assert only_record(anonymous).source_name is None
    assert only_record(anonymous).explanation == "Rated False"
    long_body = claim_review({"alternateName": "False"}, reviewBody="word " * 1000)
    explanation = only_record(long_body).explanation
    assert len(explanation) <= 2000 and explanation.endswith("word…")


def test_claim_review_without_claim_or_url_is_rejected() -> None:
    assert "claimReviewed" in only_error(claim_review({"alternateName": "False"}, claimReviewed=""))
    no_url = claim_review({"alternateName": "False"})
    del no_url["url"]
    assert "url" in only_error(no_url)
    assert "reviewRating" in only_error({**claim_review({}), "reviewRating": "False"})


def test_claim_review_jsonl(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "reviews.jsonl",
        [claim_review({"alternateName": "False"}), claim_review({"alternateName": "Mixture"})],
    )
    results = list(read_records(path))
    assert isinstance(results[0][1], KbRecord) and results[0][0] == 1
    assert isinstance(results[1][1], RecordError) and results[1][0] == 2


@pytest.mark.parametrize("indent", [None, 2])
def test_claim_review_json_documents(tmp_path: Path, indent: int | None) -> None:
    one = claim_review({"alternateName": "False"})
    two = claim_review(
        {"alternateName": "True"}, claimReviewed="Honey never spoils.", url="https://e.org/h"
    )
    shapes: list[Any] = [
        one,
        [one, two],
        {"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}, one, two]},
        {"claimReviews": [one, two]},
    ]
    for number, shape in enumerate(shapes):
        path = tmp_path / f"doc{number}.json"
        path.write_text(json.dumps(shape, indent=indent))
        results = list(read_records(path))
        assert all(isinstance(r, KbRecord) for _, r in results), results
        claims = [r.claim for _, r in results if isinstance(r, KbRecord)]
        expected = (
            [one["claimReviewed"]] if number == 0 else [one["claimReviewed"], "Honey never spoils."]
        )
        assert claims == expected
    graph = list(read_records(tmp_path / "doc2.json"))
    assert [where for where, _ in graph] == [2, 3]  # positions in the @graph list


def test_a_json_list_can_hold_our_records_and_bad_items(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([GOOD, 42, {**GOOD, "verdict": "unsure"}]))
    results = list(read_records(path))
    assert [(where, type(r).__name__) for where, r in results] == [
        (1, "KbRecord"),
        (2, "RecordError"),
        (3, "RecordError"),
    ]


def test_unreadable_files(tmp_path: Path) -> None:
    assert_unreadable(read_records, tmp_path / "missing.jsonl", None, FileNotFoundError)
    binary, broken = b"\xff\xfe\x00garbage", b'[{"claim": "x",'
    assert_unreadable(read_records, tmp_path / "binary.jsonl", binary, KbFileError, "UTF-8")
    assert_unreadable(read_records, tmp_path / "broken.json", broken, KbFileError, "not valid JSON")


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n")
    [(where, record)] = list(read_records(path))
    assert where == 1 and isinstance(record, KbRecord)


def test_only_newline_ends_a_jsonl_line(tmp_path: Path) -> None:
    odd = {**GOOD, "explanation": "Line\u2028separator and\rcarriage return inside."}
    path = tmp_path / "odd.jsonl"
    path.write_text(json.dumps(GOOD) + "\r\n" + json.dumps(odd, ensure_ascii=False) + "\r\n")
    results = list(read_records(path))
    assert [(where, type(r).__name__) for where, r in results] == [(1, "KbRecord"), (2, "KbRecord")]
