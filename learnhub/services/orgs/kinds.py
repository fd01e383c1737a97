"""The kind of an organisation as a spreadsheet writes it (组织类型), or as its name ends."""

from __future__ import annotations

import re
import unicodedata

from ...models import OrgKind

_K = OrgKind
# Spellings of 组织类型 seen in committees' own lists; the enum's own values are accepted too (`orgs add`).
KIND_NAMES: dict[str, OrgKind] = {
    "党委": _K.COMMITTEE, "党委员会": _K.COMMITTEE, "基层党委": _K.COMMITTEE, "基层党委员会": _K.COMMITTEE,
    "委员会": _K.COMMITTEE,
    "党工委": _K.WORKING_COMMITTEE, "工委": _K.WORKING_COMMITTEE, "党的工作委员会": _K.WORKING_COMMITTEE,
    "工作委员会": _K.WORKING_COMMITTEE,
    "机关党委": _K.ORGAN_COMMITTEE, "机关委员会": _K.ORGAN_COMMITTEE, "机关党的委员会": _K.ORGAN_COMMITTEE,
    "党总支": _K.GENERAL_BRANCH, "总支": _K.GENERAL_BRANCH, "党总支部": _K.GENERAL_BRANCH,
    "总支部": _K.GENERAL_BRANCH, "党总支部委员会": _K.GENERAL_BRANCH, "总支部委员会": _K.GENERAL_BRANCH,
    "党支部": _K.BRANCH, "支部": _K.BRANCH, "党支部委员会": _K.BRANCH, "支部委员会": _K.BRANCH,
    "基层党支部": _K.BRANCH,
    "联合党支部": _K.JOINT_BRANCH, "联合支部": _K.JOINT_BRANCH,
    "临时党支部": _K.TEMPORARY_BRANCH, "临时支部": _K.TEMPORARY_BRANCH,
    "党小组": _K.GROUP, "小组": _K.GROUP,
    **{k.value: k for k in OrgKind},
}
# Name endings, longest first, for a row whose 组织类型 is empty.
_ENDINGS = sorted(
    [(suffix, kind) for suffix, kind in KIND_NAMES.items() if not suffix.isascii() and suffix != "基层党支部"],
    key=lambda item: -len(item[0]),
)
_BRACKETS = re.compile(r"[（(][^）)]*[）)]")


def parse_kind(text: str) -> OrgKind | None:
    """The kind a 组织类型 cell names (spaces, brackets and full-width letters ignored), or None."""
    key = _BRACKETS.sub("", "".join(unicodedata.normalize("NFKC", text or "").split()))
    return KIND_NAMES.get(key) or KIND_NAMES.get(key.lower())


def kind_from_name(name: str) -> OrgKind | None:
    """The kind an organisation's name ends with (…临时党支部, …党总支, …机关党委), or None."""
    name = _BRACKETS.sub("", "".join(name.split()))
    return next((kind for suffix, kind in _ENDINGS if name.endswith(suffix)), None)


def accepted_kinds() -> str:
    """The kind names to show in an error message."""
    return "、".join(k.label for k in OrgKind)
