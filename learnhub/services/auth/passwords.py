"""The rule for a new password, as NIST SP 800-63B (5.1.1.2) advises: long enough, and not one that is
easy to guess, rather than a mix of character classes that members then write down.

A password is refused if it is shorter than MIN_LENGTH, one of the common passwords shipped in
learnhub/content/common-passwords.txt (ignoring case), one character repeated, a run of digits or
letters (12345678, 87654321, abcdefgh), or if it holds the member's own member number or phone number.
Spaces are allowed: a short sentence is a good password. The same rule serves every way a password is
set: a member's change, a secretary adding a member, an import's first password, the CLI.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from .. import FieldError

MIN_LENGTH = 8
MAX_LENGTH = 128
BLOCKLIST = Path(__file__).resolve().parents[2] / "content" / "common-passwords.txt"
HINT = "至少 8 位，可以用一句好记的话的拼音加数字；不能用 12345678、password 这类常见密码，也不能含自己的党员编号或手机号。"

_RUNS = ("0123456789" * 2, "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")


class WeakPassword(FieldError):
    """The password breaks the rule; the message says which part, in Chinese."""

    def __init__(self, message: str):
        super().__init__("password", message)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case."""
    lines = BLOCKLIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_new_password(password: str, member_no: str | None = None, phone: str | None = None) -> None:
    """Raise WeakPassword if `password` may not be set (for the member with this number and phone)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"密码至少需要 {MIN_LENGTH} 位")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"密码最多 {MAX_LENGTH} 位")
    lowered = password.lower()
    if lowered in common_passwords() or _repeats(lowered) or _is_run(lowered):
        raise WeakPassword("这个密码太常见，很容易被猜到，请换一个")
    own = [v.lower() for v in (member_no, phone) if v and len(v) >= 4]
    if any(v in lowered for v in own):
        raise WeakPassword("密码不能包含自己的党员编号或手机号")


def _repeats(text: str) -> bool:
    """One character, or a short group, repeated over the whole password (11111111, abababab, 520520520)."""
    return any(len(text) % size == 0 and text == text[:size] * (len(text) // size) for size in range(1, 4))


def _is_run(text: str) -> bool:
    """A stretch of the digits, the alphabet or a keyboard row, forwards or backwards."""
    return any(text in run or text in run[::-1] for run in _RUNS)
