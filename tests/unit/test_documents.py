"""Reading evidence documents (JSONL, text, Markdown, HTML) and cutting them into passages."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from pathlib import Path

import pytest

from shared.knowledge.chunking import (
    MAX_WORDS,
    MIN_WORDS,
    PassageSpan,
    chunk_passages,
    sentences,
)
from shared.knowledge.documents import (
    MAX_TITLE_LENGTH,
    Document,
    document_files,
    read_documents,
)
from shared.knowledge.records import KbFileError, RecordError
from tests.unit.kb_files import assert_unreadable


def only_document(path: Path) -> Document:
    [(position, result)] = list(read_documents(path))
    assert position == 1
    assert isinstance(result, Document), result
    return result


def words(n: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "omega"]) for _ in range(n))


def prose(sentence_lengths: list[int]) -> str:
    """Sentences of the given word counts, each capitalised and ending in a full stop."""
    return " ".join(
        f"Word{i} {words(n - 1, seed=i)}." if n > 1 else f"Word{i}."
        for i, n in enumerate(sentence_lengths)
    )


def assert_exact_offsets(text: str, passages: list[PassageSpan]) -> None:
    for i, p in enumerate(passages):
        assert p.ordinal == i
        assert text[p.start : p.end] == p.text
        assert p.text == p.text.strip() and p.text
        assert p.words == len(p.text.split())


# ---------------------------------------------------------------- formats


def test_jsonl_documents_with_positions_and_bad_records(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    lines = [
        json.dumps({"title": "Boiling", "url": "https://example.org/boil", "text": "Water boils."}),
        '{"text": "no closing brace"',
        json.dumps({"text": "   "}),
        "",
        json.dumps({"text": "Untitled, unlinked.", "id": 7}),  # other fields are ignored
        json.dumps(["a list"]),
        json.dumps({"text": "Bad link.", "url": "ftp://example.org/x"}),
        json.dumps({"text": 42}),
        json.dumps({"text": "Long title.", "title": "x" * (MAX_TITLE_LENGTH + 1)}),
    ]
    path.write_text("\n".join(lines) + "\n")
    results = list(read_documents(path))
    assert [where for where, _ in results] == [1, 2, 3, 5, 6, 7, 8, 9]
    assert results[0][1] == Document(
        url="https://example.org/boil", title="Boiling", text="Water boils."
    )
    assert results[3][1] == Document(
        url=f"{path.resolve().as_uri()}#line-5",
        title="corpus.jsonl line 5",
        text="Untitled, unlinked.",
    )
    errors = {where: r.message for where, r in results if isinstance(r, RecordError)}
    assert errors[2].startswith("malformed JSON")
    assert errors[3] == "text: is empty"
    assert errors[6] == "expected a JSON object, got list"
    assert "must be an http(s) or file URL" in errors[7]
    assert errors[8].startswith("text:")
    assert errors[9].startswith("title:")


def test_plain_text_is_kept_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    text = "The Nile is long.\nIt flows north.\n\nCairo lies on it.\n"
    path.write_text(text)
    document = only_document(path)
    assert document == Document(url=path.resolve().as_uri(), title="notes.txt", text=text)
    assert document.content_hash == hashlib.sha256(text.encode()).hexdigest()
    assert document.url.startswith("file:///")


def test_markdown_markup_is_stripped_and_title_is_the_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text(
        "Intro line before any heading.\n\n"
        "# The *Nile* river\n\n"
        "The **Nile** flows [north](https://example.org) into the `Mediterranean`.\n"
        "It is ![long](nile.png) about 6650 km.\n\n"
        "## Facts\n\n"
        "- Longest river\n"
        "- Eleven countries\n\n"
        "| country | length |\n|---|---|\n| Egypt | 1500 |\n\n"
        "> A quoted line.\n\n"
        "```\ncode stays\n```\n\n"
        "<div>Some <b>inline</b> html</div>\n"
    )
    document = only_document(path)
    assert document.title == "The Nile river"
    assert document.text == (
        "Intro line before any heading.\n\n"
        "The Nile river\n\n"
        "The Nile flows north into the Mediterranean. It is long about 6650 km.\n\n"
        "Facts\n\n"
        "Longest river\n\nEleven countries\n\n"
        "country | length\n\nEgypt | 1500\n\n"
        "A quoted line.\n\n"
        "code stays\n\n"
        "Some inline html"
    )
    for marker in ("*", "#", "[", "](", "`", "<b>", "|---"):
        assert marker not in document.text


def test_markdown_front_matter_title_and_file_name_fallback(tmp_path: Path) -> None:
    fronted = tmp_path / "a.md"
    fronted.write_text('---\ntitle: "Front title"\ndate: 2024-01-01\n---\n# Heading\n\nBody.\n')
    document = only_document(fronted)
    assert (document.title, document.text) == ("Front title", "Heading\n\nBody.")
    plain = tmp_path / "b.markdown"
    plain.write_text("Just a paragraph.\n")
    assert only_document(plain).title == "b.markdown"


def test_html_visible_text_and_title(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<!DOCTYPE html><html><head><title> The  Nile </title>"
        "<style>p { color: red }</style><script>var hidden = 1;</script></head>"
        "<body><nav>Home</nav><h1>Rivers</h1>"
        "<p>The Nile is <b>long</b>.<br>It flows north.</p>"
        "<div hidden>not shown</div><p style='display: none'>nor this</p>"
        "<span aria-hidden='true'>icon</span><!-- a comment -->"
        "<ul><li>Egypt</li><li>Sudan</li></ul><noscript>enable js</noscript>"
        "<table><tr><td>a</td><td>b</td></tr></table></body></html>"
    )
    document = only_document(path)
    assert document.title == "The Nile"
    assert document.text == (
        "Home\n\nRivers\n\nThe Nile is long.\n\nIt flows north.\n\nEgypt\n\nSudan\n\na\n\nb"
    )


def test_html_declared_encoding_and_h1_title(tmp_path: Path) -> None:
    path = tmp_path / "latin.htm"
    path.write_bytes(
        '<html><head><meta charset="iso-8859-1"></head><body><h1>Café</h1>'
        "<p>Crème brûlée.</p></body></html>".encode("iso-8859-1")
    )
    document = only_document(path)
    assert (document.title, document.text) == ("Café", "Café\n\nCrème brûlée.")


def test_empty_documents_are_rejected_not_fatal(tmp_path: Path) -> None:
    for name, content in [("e.txt", "  \n"), ("e.md", "<!-- only a comment -->\n")]:
        path = tmp_path / name
        path.write_text(content)
        assert list(read_documents(path)) == [(1, RecordError("no text"))]
    html = tmp_path / "e.html"
    html.write_text("<html><head><title>t</title><script>x()</script></head></html>")
    assert list(read_documents(html)) == [(1, RecordError("no text"))]


def test_unreadable_files_raise(tmp_path: Path) -> None:
    binary, csv = tmp_path / "bad.txt", tmp_path / "data.csv"
    assert_unreadable(read_documents, binary, b"\xff\xfe\x00bad", KbFileError, "not UTF-8")
    assert_unreadable(read_documents, csv, b"a,b\n", KbFileError, "not a document file")
    assert_unreadable(read_documents, tmp_path / "missing.txt", None, OSError)


def test_directories_are_read_recursively_skipping_hidden_and_other_files(tmp_path: Path) -> None:
    for name in ["b.txt", "a/c.md", "a/deep/d.HTML", "e.jsonl", ".hidden.txt", ".git/f.txt"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "notes.csv").write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in document_files(tmp_path)]
    assert found == ["a/c.md", "a/deep/d.HTML", "b.txt", "e.jsonl"]
    assert document_files(tmp_path / "b.txt") == [tmp_path / "b.txt"]


# ---------------------------------------------------------------- sentences and passages


def test_sentences_respect_abbreviations_decimals_and_blank_lines() -> None:
    text = (
        "Dr. Smith met J. K. Rowling in the U.S. on Monday. Pi is 3.14 roughly! "
        '"Is it?" she asked. Fig. 2 shows it.\n\nA heading without a stop\n\n'
        "Wrapped across\na line."
    )
    found = [text[s.start : s.end] for s in sentences(text)]
    assert found == [
        "Dr. Smith met J. K. Rowling in the U.S. on Monday.",
        "Pi is 3.14 roughly!",
        '"Is it?" she asked.',
        "Fig. 2 shows it.",
        "A heading without a stop",
        "Wrapped across\na line.",
    ]


def test_a_short_document_is_one_passage() -> None:
    text = "  The Nile flows north. It is long.  \n"
    [passage] = chunk_passages(text)
    assert passage.text == "The Nile flows north. It is long."
    assert_exact_offsets(text, [passage])
    assert chunk_passages("   \n\n ") == []


def test_passages_are_sentence_aligned_sized_and_overlap_by_one_sentence() -> None:
    rng = random.Random(3)
    lengths = [rng.randint(4, 40) for _ in range(120)]
    text = prose(lengths)
    passages = chunk_passages(text)
    assert len(passages) > 10
    assert_exact_offsets(text, passages)
    spans = sentences(text)
    starts = {s.start for s in spans}
    ends = {s.end for s in spans}
    for p in passages:
        assert p.start in starts and p.end in ends  # whole sentences only
        assert p.words <= MAX_WORDS
    assert all(p.words > MIN_WORDS for p in passages[:-1])
    for before, after in itertools.pairwise(passages):
        # The next passage starts with the previous one's last sentence.
        [last] = [s for s in spans if s.end == before.end]
        assert after.start == last.start
    # Together the passages cover the whole text.
    assert passages[0].start == spans[0].start and passages[-1].end == spans[-1].end


def test_an_overlong_sentence_is_cut_at_word_boundaries() -> None:
    text = "Intro sentence here. " + words(400) + ". Outro sentence."
    passages = chunk_passages(text)
    assert_exact_offsets(text, passages)
    assert all(p.words <= MAX_WORDS for p in passages)
    assert all(p.words > MIN_WORDS for p in passages[:-1])
    assert passages[-1].text.endswith("Outro sentence.")
    covered = " ".join(p.text for p in passages).split()
    assert set(text.split()) <= set(covered)


def test_unicode_text_offsets_are_character_offsets() -> None:
    text = "Ünïcödé façade — naïve café. " * 40 + "Ending here."
    passages = chunk_passages(text)
    assert len(passages) > 1
    assert_exact_offsets(text, passages)


def test_chunk_size_limits_are_configurable_and_checked() -> None:
    text = prose([5] * 40)
    small = chunk_passages(text, min_words=10, max_words=20)
    assert all(p.words <= 20 for p in small)
    assert all(p.words > 10 for p in small[:-1])
    with pytest.raises(ValueError):
        chunk_passages(text, min_words=20, max_words=20)


def test_document_passages_use_the_chunker(tmp_path: Path) -> None:
    text = prose([20] * 30)
    document = Document(url="https://example.org/x", title="x", text=text)
    assert document.passages() == chunk_passages(text)
