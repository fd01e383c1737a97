"""The built-in question bank passes its own check and has the size and mix the product promises."""

from __future__ import annotations

from pathlib import Path

from learnhub.services.bank.files import bank_stats, load_bank
from learnhub.services.bank.constitution import PARTS

BANK = Path(__file__).parent.parent / "questions"


def test_shipped_bank_is_valid_and_complete():
    bank = load_bank(BANK)
    assert bank.problems == [], "\n".join(str(p) for p in bank.problems[:20])
    stats = bank_stats(bank)
    total = stats["total"]
    assert total >= 600
    shares = {k: v / total for k, v in stats["by_type"].items()}
    assert shares["single"] >= 0.40 and shares["multiple"] >= 0.20
    assert shares["truefalse"] >= 0.20 and shares["fill"] >= 0.10
    assert stats["by_article"]["总纲"] >= 100
    thin = {a: stats["by_article"].get(a, 0) for part in PARTS[1:] for a in part.articles if stats["by_article"].get(a, 0) < 4}
    assert not thin, f"articles with fewer than 4 questions: {thin}"


def test_every_note_hangs_on_known_points():
    from learnhub.services.study.materials import read_note

    points = {p.name for p in load_bank(BANK).points}
    notes = sorted((BANK.parent / "learnhub" / "content" / "notes").glob("*.md"))
    assert len(notes) >= 14
    for path in notes:
        note = read_note(path)
        assert note.points and set(note.points) <= points, path.name
        assert "本篇涉及的知识点" in note.body, path.name
