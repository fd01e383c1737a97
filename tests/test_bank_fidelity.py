"""The built-in bank teaches the Constitution's own words where a member must learn them word for word.

A fill-in blank's first accepted answer (the one shown as the right answer) and every phrase the bank
puts in quotation marks must appear in the 2022 text as `tests/constitution_2022.py` derives it from the
official sources in `questions/sources/`. Later alternatives of a blank are accepted spellings (Arabic
numerals, a short form) and are not checked here.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from learnhub.services.bank.files import BLANK, load_bank, normalise_text
from tests.constitution_2022 import AMENDMENT_QA, TEXT_2017, check_changes, in_2022_text

BANK = Path(__file__).parent.parent / "questions"

QUOTED = re.compile(r"“([^”]*)”|「([^」]*)」")
ELLIPSIS = re.compile(r"…+|\.{3,}")

# Quotations the bank attributes, in the same field, to a document other than the 2022 Constitution.
# (question id, quoted phrase) -> (words naming the document in that field, the document's text).
OTHER_DOCUMENTS = {
    # The wording the 2022 revision replaced, quoted as the 2017 version's.
    ("c07-011", "批评教育直至纪律处分"): ("2017年版", TEXT_2017),
    ("zg1-033", "马克思主义中国化最新成果"): ("2017年党章", TEXT_2017),
    ("zg1-042", "两个一百年"): ("2017年版", TEXT_2017),
    ("zg3-023", "全面建成小康社会"): ("2017年版", TEXT_2017),
    ("zg4-030", "科技兴军"): ("2017年版", TEXT_2017),
    ("zg4-031", "科技兴军"): ("2017年版", TEXT_2017),
    # The secretariat's reason for writing 斗争精神 into the text, not the text itself.
    ("zg2-020", "敢于斗争、敢于胜利，是党和人民不可战胜的强大精神力量"): ("答新华社记者问", AMENDMENT_QA),
}


def _bank():
    bank = load_bank(BANK)
    assert bank.problems == [], "\n".join(str(p) for p in bank.problems[:20])
    return bank


def _quotations(text: str):
    """Each quoted phrase of `text` with the number of blanks before it."""
    for match in QUOTED.finditer(text):
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        yield inner, len(BLANK.findall(text[: match.start()]))


def _filled(phrase: str, first_blank: int, answers) -> str:
    """The phrase with its blanks filled by the answers shown as right, in order."""
    index = itertools.count(first_blank)
    return BLANK.sub(lambda _: answers[next(index)][0], phrase)


def test_the_2022_changes_rest_on_the_official_sources():
    assert check_changes() == []


def test_the_2022_text_has_the_new_wording_and_not_the_replaced_one():
    assert in_2022_text("发展更加广泛、更加充分、更加健全的全过程人民民主")
    assert in_2022_text("坚持政治建军、改革强军、科技强军、人才强军、依法治军")
    assert in_2022_text("又有集中又有民主，又有纪律又有自由")
    assert not in_2022_text("科技兴军")
    assert not in_2022_text("“两个一百年”奋斗目标")
    assert not in_2022_text("马克思主义中国化最新成果")
    assert not in_2022_text("党组发挥领导核心作用")


def test_every_fill_in_answer_is_the_constitutions_wording():
    wrong = []
    for q in _bank().questions:
        if q.kind != "fill":
            continue
        for alternatives in q.answer:
            if not in_2022_text(alternatives[0]):
                wrong.append(f"{q.key}: {alternatives[0]}")
    assert not wrong, "fill-in answers not in the 2022 text:\n" + "\n".join(wrong)


def test_every_quoted_phrase_is_the_constitutions_wording():
    wrong, attributed = [], set()
    for q in _bank().questions:
        fields = [("stem", q.stem, q.answer if q.kind == "fill" else None)]
        fields += [("option", option, None) for option in q.options]
        fields += [("explanation", q.explanation, None)]
        for name, text, answers in fields:
            for phrase, blanks_before in _quotations(text):
                if answers is not None and BLANK.search(phrase):
                    phrase = _filled(phrase, blanks_before, answers)
                if (q.key, phrase) in OTHER_DOCUMENTS:
                    attributed.add((q.key, phrase))
                    named, source = OTHER_DOCUMENTS[q.key, phrase]
                    quoted_right = normalise_text(phrase) in normalise_text(source.read_text(encoding="utf-8"))
                    if named not in text or not quoted_right:
                        wrong.append(f"{q.key} {name}: “{phrase}” must be quoted from {source.name} and say {named}")
                    continue
                for piece in ELLIPSIS.split(phrase):
                    if normalise_text(piece) and not in_2022_text(piece):
                        wrong.append(f"{q.key} {name}: “{piece}”")
    assert not wrong, "quoted phrases not in the 2022 text:\n" + "\n".join(wrong)
    assert attributed == set(OTHER_DOCUMENTS), "allow-list entries no question uses any more"


# Paraphrases a reading of the bank against the official text found in place of a fixed phrase,
# each with the Constitution's wording. They must not come back, quoted or not.
PARAPHRASES = {
    "既有集中又有民主": "又有集中又有民主，又有纪律又有自由",
    "怀有共产主义远大理想": "具有共产主义远大理想",
    "终身为共产主义奋斗": "为实现共产主义奋斗终身",
    "巩固和发展平等团结互助和谐": "维护和发展平等团结互助和谐的社会主义民族关系",
    "以民主为基础的集中": "民主基础上的集中和集中指导下的民主相结合",
    "在党内生活中的运用": "群众路线在党的生活中的运用",
    "若干县": "在几个县、自治县、市范围内派出的代表机关",
    "谋取任何私利": "不得谋求任何私利和特权",
    "谋取私利和特权": "不得谋求任何私利和特权",
    "贯彻落实党的路线方针政策": "负责贯彻执行党的路线、方针、政策",
    "绿水青山就是金山银山”的理念": "增强绿水青山就是金山银山的意识",
}


def test_paraphrases_of_fixed_phrases_do_not_come_back():
    for paraphrase, official in PARAPHRASES.items():
        assert in_2022_text(official), official
        assert not in_2022_text(paraphrase), paraphrase
    found = [
        f"{q.key}: {paraphrase} (the text says {official})"
        for q in _bank().questions
        for text in (q.stem, *q.options, q.explanation)
        for paraphrase, official in PARAPHRASES.items()
        if paraphrase in text
    ]
    assert not found, "\n".join(found)


def test_a_changed_answer_is_caught():
    """The checks above are not vacuous: a paraphrase of a fixed phrase fails them."""
    assert not in_2022_text("为共产主义奋斗一生")
    assert not in_2022_text("若干县、自治县、市")
    assert in_2022_text("几个县、自治县、市")
