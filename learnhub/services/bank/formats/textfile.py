"""Text bank files (GIFT, Aiken) as they arrive: decoding, line ends and control characters."""

from __future__ import annotations

import codecs
import re

# Invisible characters that mean nothing in a question: C0 controls other than tab and the line ends,
# DEL, C1 controls, and a byte-order mark left in the middle of a file (two files pasted together).
# Excel refuses most of them in a cell, so a question carrying one could not be exported again.
_INVISIBLE = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff]")
# How many lines a message names before it says "…".
_SHOWN_LINES = 5


def decode_text(data: bytes) -> str | None:
    """Decode an uploaded text file; None when it is not text in any encoding we read.

    A byte-order mark decides (UTF-8, UTF-16 LE or BE: what Notepad and Excel's "Unicode text" write);
    without one, UTF-8, else GB18030 (GBK), which Chinese Windows uses for "ANSI".
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                return None
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def clean_text(text: str) -> tuple[str, str | None]:
    """Return the text with one kind of line end and no invisible control characters, or why it is refused.

    A NUL character is refused, naming its lines: it means a binary file or UTF-16 saved without a BOM,
    and PostgreSQL cannot store it. Other control characters are dropped.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        lines = [str(n) for n, line in enumerate(text.split("\n"), start=1) if "\x00" in line]
        shown = "、".join(lines[:_SHOWN_LINES]) + ("…" if len(lines) > _SHOWN_LINES else "")
        return "", (f"第 {shown} 行有空字符（NUL），这不是纯文本文件（或是缺少 BOM 的 UTF-16 文件），"
                    "请用记事本另存为 UTF-8 编码的文本文件再导入")
    return strip_invisible(text), None


def strip_invisible(text: str) -> str:
    """Drop control characters that carry nothing (keeps tab and line feed)."""
    return _INVISIBLE.sub("", text)
