"""Migration i15m keeps every material and reading: the notes become the built-in subject's materials with a
version 1 holding their text, and every reading so far read version 1."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade

from learnhub.extensions import db

SEED = [
    "INSERT INTO organisation (id, name, code, kind, path, position, active, created_at) "
    "VALUES (1, '党委', 'a', 'committee', '/1/', 0, true, CURRENT_TIMESTAMP)",
    'INSERT INTO "user" (id, member_no, name, org_id, category, password_hash, must_change_password, is_admin, active, '
    "session_version, created_at) VALUES (1, 'm1', '党员', 1, 'full', 'x', false, false, true, 1, CURRENT_TIMESTAMP)",
    "INSERT INTO material (id, slug, title, part, body_md, position, updated_at) "
    "VALUES (7, 'c01-members', '第一章 党员', '第一章 党员', '## 入党条件\n\n年满十八岁。', 10, CURRENT_TIMESTAMP)",
    "INSERT INTO reading (user_id, material_id, opened_at, completed_at) "
    "VALUES (1, 7, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
]


def test_materials_and_readings_survive_and_get_version_1(bare_app):
    with bare_app.app_context():
        upgrade(revision="i15s")
        with db.engine.begin() as conn:
            for statement in SEED:
                conn.exec_driver_sql(statement)
        upgrade(revision="i15m")
        with db.engine.connect() as conn:
            material = conn.exec_driver_sql(
                "SELECT subject_id, owner_org_id, version, retired_at, title FROM material WHERE id = 7").one()
            assert tuple(material) == (1, None, 1, None, "第一章 党员")
            versions = conn.exec_driver_sql("SELECT material_id, number, title, body_md, author_id FROM material_version").all()
            assert [tuple(v) for v in versions] == [(7, 1, "第一章 党员", "## 入党条件\n\n年满十八岁。", None)]
            reading = conn.exec_driver_sql("SELECT version, completed_at IS NOT NULL FROM reading").one()
            assert tuple(reading) == (1, True)
        # The previous release's insert of a reading (no version) still works: the server default fills it.
        with db.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO material (id, slug, title, part, body_md, position, updated_at) "
                                 "VALUES (8, 'c02', '第二章', '', '正文', 20, CURRENT_TIMESTAMP)")
            conn.exec_driver_sql("INSERT INTO reading (user_id, material_id, opened_at) VALUES (1, 8, CURRENT_TIMESTAMP)")
            assert conn.exec_driver_sql("SELECT version FROM reading WHERE material_id = 8").scalar() == 1
            assert conn.exec_driver_sql("SELECT subject_id, version FROM material WHERE id = 8").one() == (1, 1)
        downgrade(revision="i15s")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM material").scalar() == 2
            assert conn.exec_driver_sql("SELECT count(*) FROM reading").scalar() == 2
