"""Documents for open-world evidence, read from files, and their passages.

A FILE or a DIR (read recursively, hidden entries skipped) of:

* JSONL, one document per line: ``{"text", "url"?, "title"?}`` (other fields ignored);
* plain text (``.txt``), Markdown (``.md``, ``.markdown``; markup stripped), HTML
  (``.html``, ``.htm``; the visible text), one document per file.

A document without a URL gets the file's ``file://`` URL (a JSONL line: the file's URL
with ``#line-N``); its title is the JSONL ``title``, the HTML ``<title>``, the first
Markdown heading, else the file name. The URL identifies a document across loads.

``read_documents`` never stops at a bad record: each comes back as a ``RecordError``
with its position (the line of a JSONL file; 1 for a one-document file), as
``records.read_records`` does for claims.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .chunking import PassageSpan, chunk_passages
from .records import MAX_URL_LENGTH, KbFileError, RecordError, json_lines

MAX_TITLE_LENGTH = 500
# A larger "document" is almost certainly a dump that should have been split.
MAX_DOCUMENT_CHARS = 5_000_000
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
TEXT_SUFFIXES = frozenset({".txt"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUFFIXES = JSONL_SUFFIXES | TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES
_URL_SCHEMES = ("http", "https", "file")


@dataclass(frozen=True, slots=True)
class Document:
    """One document as stored in ``kb_documents``; passage offsets index ``text``."""

    url: str
    title: str
    text: str

    @property
    def content_hash(self) -> str:
        """SHA-256 hex of the text: an unchanged text keeps its passages and embeddings."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def passages(self) -> list[PassageSpan]:
        return chunk_passages(self.text)


ReadResult = tuple[int, Document | RecordError]


class _JsonDocument(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    text: str = Field(max_length=MAX_DOCUMENT_CHARS)
    url: str | None = Field(default=None, max_length=MAX_URL_LENGTH)
    title: str | None = Field(default=None, max_length=MAX_TITLE_LENGTH)

    @field_validator("text")
    @classmethod
    def _has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme not in _URL_SCHEMES or (scheme != "file" and not parts.hostname):
            raise ValueError("must be an http(s) or file URL")
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str | None) -> str | None:
        return " ".join(value.split()) if value else None


def document_files(path: Path) -> list[Path]:
    """``path`` itself when it is a file, else every document file under it, sorted;
    hidden files and folders (".git", …) are skipped."""
    if not path.is_dir():
        return [path]
    return sorted(
        found
        for found in path.rglob("*")
        if found.suffix.lower() in SUFFIXES
        and found.is_file()
        and not any(part.startswith(".") for part in found.relative_to(path).parts)
    )


def read_documents(path: Path) -> Iterator[ReadResult]:
    """Every document of the file ``path`` as ``(position, Document | RecordError)``.

    Raises ``OSError`` when the file cannot be read and ``KbFileError`` when it is not a
    document file or not UTF-8 text (HTML may declare another encoding).
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise KbFileError(f"not a document file (expected one of {', '.join(sorted(SUFFIXES))})")
    # bs4 and markdown-it load in ~0.15 s: only when documents are read, not with every
    # `satyamark` command.
    from .extract import html_text, markdown_text

    url = path.resolve().as_uri()
    if suffix in HTML_SUFFIXES:
        text, title = html_text(path.read_bytes())
        yield 1, _whole_file(url, title or path.name, text)
        return
    source = _read_utf8(path)
    if suffix in JSONL_SUFFIXES:
        yield from _parse_jsonl(source, url, path.name)
    elif suffix in MARKDOWN_SUFFIXES:
        text, title = markdown_text(source)
        yield 1, _whole_file(url, title or path.name, text)
    else:
        yield 1, _whole_file(url, path.name, source)


def _read_utf8(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KbFileError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _whole_file(url: str, title: str, text: str) -> Document | RecordError:
    if not text.strip():
        return RecordError("no text")
    if len(text) > MAX_DOCUMENT_CHARS:
        return RecordError(f"text longer than {MAX_DOCUMENT_CHARS} characters")
    return Document(url=url, title=_shorten(title), text=text)


def _parse_jsonl(source: str, file_url: str, file_name: str) -> Iterator[ReadResult]:
    for number, item in json_lines(source):
        if isinstance(item, RecordError):
            yield number, item
            continue
        if not isinstance(item, dict):
            yield number, RecordError(f"expected a JSON object, got {type(item).__name__}")
            continue
        try:
            record = _JsonDocument.model_validate(item)
        except ValidationError as exc:
            yield number, RecordError(_describe(exc))
            continue
        yield (
            number,
            Document(
                url=record.url or f"{file_url}#line-{number}",
                title=record.title or f"{file_name} line {number}",
                text=record.text,
            ),
        )


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in error["loc"]) or "record"
        problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


def _shorten(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE_LENGTH else title[: MAX_TITLE_LENGTH - 1] + "…"
