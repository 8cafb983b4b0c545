"""The visible text of HTML and Markdown, in blocks separated by blank lines.

Each block (paragraph, heading, list item, table row, …) has its white space collapsed
and ends in a blank line, which ``chunking.sentences`` treats as a sentence end: a heading
or a list item without a full stop does not run into the next one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup
from bs4.element import (
    CData,
    Comment,
    Declaration,
    Doctype,
    NavigableString,
    PageElement,
    ProcessingInstruction,
    Tag,
)
from markdown_it import MarkdownIt
from markdown_it.token import Token

_SPACES = re.compile(r"\s+")
# Never shown to a reader.
_INVISIBLE = frozenset(
    "head script style noscript template svg canvas iframe object embed audio video "
    "map select datalist input button".split()
)
_BLOCKS = frozenset(
    "address article aside blockquote body caption dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main nav ol "
    "p pre section summary table tbody td tfoot th thead tr ul br".split()
)
_NOT_TEXT = (Comment, CData, Declaration, Doctype, ProcessingInstruction)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)


@dataclass
class _Blocks:
    done: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.pending.append(text)

    def flush(self) -> None:
        block = _SPACES.sub(" ", "".join(self.pending)).strip()
        if block:
            self.done.append(block)
        self.pending.clear()

    def text(self) -> str:
        self.flush()
        return "\n\n".join(self.done)


def _hidden(tag: Tag) -> bool:
    if tag.name in _INVISIBLE or tag.has_attr("hidden"):
        return True
    if str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    style = _SPACES.sub("", str(tag.get("style", ""))).lower()
    return "display:none" in style or "visibility:hidden" in style


def _visible_text(root: Tag) -> str:
    blocks = _Blocks()
    # Depth-first without recursion: real pages nest deeper than Python's stack allows.
    stack: list[PageElement | None] = [root]
    while stack:
        node = stack.pop()
        if node is None:  # the end of a block element
            blocks.flush()
        elif isinstance(node, Tag):
            if _hidden(node):
                continue
            if node.name in _BLOCKS:
                blocks.flush()
                stack.append(None)
            stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, _NOT_TEXT):
            blocks.add(str(node))
    return blocks.text()


def html_text(source: bytes | str) -> tuple[str, str]:
    """(visible text, title) of an HTML page; the title is ``<title>``, else the first
    ``<h1>``, else "". Bytes are decoded as the page declares (``<meta charset>``)."""
    soup = BeautifulSoup(source, "html.parser")
    title = ""
    if soup.title is not None:
        title = _SPACES.sub(" ", soup.title.get_text()).strip()
    if not title and (h1 := soup.find("h1")) is not None:
        title = _SPACES.sub(" ", h1.get_text()).strip()
    return _visible_text(soup), title


def _inline_text(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "image"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "html_inline":
            parts.append(" ")  # <br>, <span …>: markup, not text
    return _SPACES.sub(" ", "".join(parts)).strip()


def markdown_text(source: str) -> tuple[str, str]:
    """(text, title) of a Markdown document: emphasis, links, images (their alt text),
    code spans and HTML removed; the title is the front matter's ``title:``, else the
    first heading, else ""."""
    title = ""
    if (front := _FRONT_MATTER.match(source)) is not None:
        if (named := _FRONT_TITLE.search(front.group(1))) is not None:
            title = named.group(1).strip("\"'")
        source = source[front.end() :]
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    blocks: list[str] = []
    row: list[str] | None = None
    in_heading = False
    for token in md.parse(source):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            blocks.append(" | ".join(cell for cell in row if cell))
            row = None
        elif token.type == "heading_open":
            in_heading = True
        elif token.type == "heading_close":
            in_heading = False
        elif token.type == "inline":
            text = _inline_text(token)
            if row is not None:
                row.append(text)
            else:
                blocks.append(text)
                if in_heading and not title:
                    title = text
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.strip())
        elif token.type == "html_block":
            blocks.append(html_text(token.content)[0])
    return "\n\n".join(block for block in blocks if block), title
