"""Storing an organisation list that `importing.plan` found sound: in one transaction, under the tree lock.

Rows are stored level by level down the file's tree, so a parent exists (and has its final path)
before its children: each level's new organisations in one batch of INSERTs (their paths need their
ids, so a batch of UPDATEs follows), then that level's stored organisations renamed and, if their
parent changed, moved with their subtree. A 2,000-branch file is a handful of statements per level,
not two round trips per organisation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Grant, Organisation
from .. import ServiceError
from . import Scope
from .edit import lock_tree, move_subtree
from .importing import Row, plan


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    grants: int


def apply(scope: Scope, records: list[tuple[int, dict[str, str]]]) -> ImportResult:
    """Store the file's tree: check it again under the tree lock, then create, update and move
    organisations (parents first) and add the grants, in one transaction. Commits.

    :raise ImportRejected: if the tree changed since the preview so that a row is now wrong.
    """
    lock_tree()
    result = plan(scope, records)
    store = _Store(set(db.session.scalars(select(Organisation.code))))
    try:
        for _, level in groupby(sorted(result.rows, key=lambda r: r.depth), key=lambda r: r.depth):
            rows = list(level)
            store.create([r for r in rows if r.existing is None])
            store.update([r for r in rows if r.existing is not None])
        db.session.add_all(Grant(user_id=user.id, org_id=store.id_of(row), role=role)
                           for row in result.rows for user, role in row.grants)
        db.session.commit()
    except IntegrityError:  # a code or grant of the file taken meanwhile outside the tree lock (`orgs add`)
        db.session.rollback()
        raise ServiceError("导入时有组织编码或授权刚被别的操作占用，没有导入任何组织；请重新上传预览") from None
    return ImportResult(result.count("new"), result.count("changed"), result.count("unchanged"), result.grant_count)


class _Store:
    def __init__(self, taken: set[str]):
        self.taken = taken  # every code in use
        self.new: dict[int, tuple[int, str]] = {}  # line of a new row -> (id, path)

    def id_of(self, row: Row) -> int:
        return self.new[row.line][0] if row.existing is None else row.existing.id

    def _parent(self, row: Row) -> tuple[int | None, str]:
        """The parent's id and current path ('/' and None at the top)."""
        parent = row.parent
        if isinstance(parent, Row):
            if parent.existing is None:
                return self.new[parent.line]
            parent = parent.existing
        return (parent.id, parent.path) if parent is not None else (None, "/")

    def create(self, rows: list[Row]) -> None:
        """Insert this level's new organisations, then give each its path and (if the file had none) a code."""
        if not rows:
            return
        db.session.flush()
        table = Organisation.__table__
        parents = [self._parent(r) for r in rows]
        ids = db.session.connection().execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [{"name": r.name, "code": r.code or f"new-{uuid.uuid4().hex}", "kind": r.kind, "parent_id": parent_id}
             for r, (parent_id, _) in zip(rows, parents, strict=True)],
        ).scalars().all()
        changes = []
        for row, (_, parent_path), org_id in zip(rows, parents, ids, strict=True):
            code = row.code or self._free(f"org{org_id}")
            self.taken.add(code)
            self.new[row.line] = (org_id, f"{parent_path}{org_id}/")
            changes.append({"oid": org_id, "new_path": self.new[row.line][1], "new_code": code})
        db.session.connection().execute(
            update(table).where(table.c.id == bindparam("oid")).values(path=bindparam("new_path"), code=bindparam("new_code")),
            changes,
        )

    def update(self, rows: list[Row]) -> None:
        """Rename this level's stored organisations and move those whose parent changed."""
        moved = False
        for row in rows:
            org = row.existing
            org.name, org.code, org.kind = row.name, row.code or org.code, row.kind or org.kind
            parent_id, _ = self._parent(row)
            if row.parent is not None and org.parent_id != parent_id:
                move_subtree(org, db.session.get(Organisation, parent_id) if parent_id is not None else None)
                moved = True
        if moved and self.new:  # a move may have carried organisations created above along with it
            ids = {org_id: line for line, (org_id, _) in self.new.items()}
            for org_id, path in db.session.execute(select(Organisation.id, Organisation.path).where(Organisation.id.in_(ids))):
                self.new[ids[org_id]] = (org_id, path)

    def _free(self, code: str) -> str:
        """`code`, or with a suffix if someone already chose it by hand."""
        candidate, n = code, 1
        while candidate in self.taken:
            candidate, n = f"{code}-{n}", n + 1
        return candidate
