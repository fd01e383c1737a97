"""GIFT text: Moodle's escapes, its [format] markers, and HTML turned into the plain text LearnHub stores.

Moodle stores what its editor writes as HTML and exports it as `[html]<p dir="ltr" …>…&nbsp;</p>`.
LearnHub questions are plain text (escaped when shown), so HTML becomes text here: block tags and
<br> become line breaks, every other tag goes (through nh3, the sanitiser the study notes use),
entities are decoded. Markdown is kept as written; plain text as it is.
"""

from __future__ import annotations

import html
import re

import nh3

from .textfile import strip_invisible

FORMATS = ("html", "moodle", "plain", "markdown")
DEFAULT_FORMAT = "moodle"
# Moodle's escapes: \\ first, so that \\= is a backslash followed by a real =.
_ESCAPE = re.compile(r"\\([\\:#={}~n])")
_MARKER = re.compile(r"\[([a-z]+)\]")
# Tags and entities that make text in Moodle's default format (HTML allowed) read as HTML. Text
# without any is left alone, so "x<y" in a plain question stays as written.
_LOOKS_HTML = re.compile(
    r"<(?:/?(?:p|br|div|span|b|i|u|em|strong|sub|sup|ol|ul|li|h[1-6]|table|tbody|thead|tr|td|th|font|a|hr|pre|code"
    r"|blockquote|img)\b[^>]*|!--.*?--)>|&(?:nbsp|amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);",
    re.IGNORECASE | re.DOTALL,
)
_ATTRIBUTES = r"""(?:[^>"']|"[^"]*"|'[^']*')*>"""
_LINE_BREAKING = re.compile(r"<(?:br|/?(?:p|div|li|ul|ol|h[1-6]|tr|table|blockquote|pre|hr))\b" + _ATTRIBUTES,
                            re.IGNORECASE)
# Table cells sit side by side: a space between them.
_CELL = re.compile(r"</?(?:td|th)\b" + _ATTRIBUTES, re.IGNORECASE)
_IMAGE = re.compile(r"<img\b", re.IGNORECASE)
_TEXT_ONLY = nh3.Cleaner(tags=set())  # built once: nh3.clean() builds its settings on every call
_HTML_SPACE = re.compile(r"[ \t\n\f]+")
_RUN = re.compile(r"[ \t]+")


class Unreadable(ValueError):
    """Text that cannot become a LearnHub question; the message says why, in Chinese."""


def mask(text: str) -> str:
    """Blank out escape sequences (same length), so structural characters can be found by position."""
    return _ESCAPE.sub("\x01\x01", text)


def unescape(text: str) -> str:
    """Undo Moodle's GIFT escapes; a backslash before anything else stays, as in Moodle."""
    return _ESCAPE.sub(lambda m: "\n" if m[1] == "n" else m[1], text)


def split_unescaped(text: str, pattern: str) -> list[str]:
    """Split raw GIFT text where `pattern` matches outside an escape."""
    parts, start = [], 0
    for found in re.finditer(pattern, mask(text)):
        parts.append(text[start:found.start()])
        start = found.end()
    return parts + [text[start:]]


def split_format(raw: str, default: str = DEFAULT_FORMAT) -> tuple[str, str]:
    """Return (format, text) for raw GIFT text that may open with [html], [plain], [moodle] or [markdown]."""
    raw = raw.lstrip()  # the end stays: text may follow the braces of a missing-word question
    found = _MARKER.match(raw)
    if found and found[1] in FORMATS:
        return found[1], raw[found.end():]
    return default, raw


def gift_text(raw: str, default: str = DEFAULT_FORMAT) -> str:
    """Turn one raw piece of GIFT (question text, an answer, feedback) into the plain text we store."""
    fmt, text = split_format(raw, default)
    return to_text(unescape(text), fmt)


def to_text(text: str, fmt: str) -> str:
    """Plain text for text in a Moodle format: HTML converted, anything else kept (trimmed)."""
    if fmt == "html" or (fmt == "moodle" and _LOOKS_HTML.search(text)):
        text = html_to_text(text)
    return strip_invisible(text).strip()


def html_to_text(text: str) -> str:
    """Sanitised plain text of an HTML fragment: paragraphs and <br> as line breaks, no tags, no entities."""
    if _IMAGE.search(text):
        raise Unreadable("含有图片（<img>），LearnHub 的题目不能带图片，请改写成文字或删去这道题")
    text = _LINE_BREAKING.sub("\n", _HTML_SPACE.sub(" ", text))  # a line break in HTML source is a space
    text = _CELL.sub(" ", text)
    if "<" in text:  # any other tag: nh3 keeps only the text (nothing of scripts, styles or comments)
        text = _TEXT_ONLY.clean(text)
    lines = (_RUN.sub(" ", line).strip(" \t") for line in html.unescape(text).replace("\u00a0", " ").split("\n"))
    return "\n".join(line for line in lines if line)


def looks_like_html(text: str) -> bool:
    """Would Moodle's default format read this text as HTML?"""
    return bool(_LOOKS_HTML.search(text))
