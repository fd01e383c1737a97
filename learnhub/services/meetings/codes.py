"""The short code a phone types to join: 6 characters from an alphabet without look-alikes."""

from __future__ import annotations

import secrets
import unicodedata

# No 0/O/Q/D, 1/I/L/J, 2/Z, 5/S, 8/B, 6/G, U/V: what a projector and a phone keyboard can confuse.
ALPHABET = "ACEFHKMNPRTWXY3479"
CODE_LENGTH = 6


def new_code() -> str:
    """A random code (the caller makes sure no open meeting has it)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str | None) -> str:
    """The code as typed on any keyboard: full-width characters folded (ＡＢ１ is AB1), lower case raised,
    spaces and dashes dropped."""
    text = unicodedata.normalize("NFKC", typed or "").upper()
    return "".join(c for c in text if c.isalnum())[:20]
