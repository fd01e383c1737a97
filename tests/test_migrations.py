"""The Alembic history builds the schema the models describe, and tears it down again."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from learnhub.extensions import db


def test_upgrade_from_empty_matches_the_models_and_downgrades_to_base(bare_app):
    with bare_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"user", "organisation", "question", "attempt", "response", "member_result"} <= tables
        with db.engine.connect() as conn, warnings.catch_warnings():
            # SQLite's reflection skips expression indexes (with a warning); EXPRESSION_INDEXES checks them.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        assert EXPRESSION_INDEXES <= _index_names(), "an expression index of the models is missing"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


EXPRESSION_INDEXES = {"ix_user_member_no_upper"}


def _index_names() -> set[str]:
    """Every index of the database by name, expression indexes included."""
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            return set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
        return set(conn.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()").scalars())


SEED_0004 = [  # a finished attempt with its response, a question, and a key correction of it
    "INSERT INTO organisation (id, name, code, kind, path, position, created_at) "
    "VALUES (1, '党委', 'a', 'committee', '/1/', 0, CURRENT_TIMESTAMP)",
    'INSERT INTO "user" (id, member_no, name, org_id, category, password_hash, must_change_password, is_admin, active, '
    "session_version, failed_logins, created_at) VALUES (1, 'm1', '党员', 1, 'full', 'x', false, false, true, 1, 0, "
    "CURRENT_TIMESTAMP)",
    "INSERT INTO assignment (id, title, kind, org_id, opens_at, closes_at, pass_mark, max_attempts, scoring, "
    "show_answers, draw_rules, created_at) VALUES (1, '测验', 'exam', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 60, 1, "
    "'highest', 'after_submit', '[]', CURRENT_TIMESTAMP)",
    "INSERT INTO knowledge_point (id, level, name, position) VALUES (1, 'point', '入党条件', 0)",
    "INSERT INTO question (id, key, revision, is_current, retired, kind, stem, options, answer, explanation, article, "
    "point_id, difficulty, version, source, created_at) VALUES (1, 't01-001', 1, true, false, 'truefalse', '题干', "
    "'[]', '[true]', '', '第一条', 1, 1, '2022', '题库.xlsx', CURRENT_TIMESTAMP)",
    "INSERT INTO attempt (id, assignment_id, user_id, number, state, started_at, paper, correct_count, total, "
    "last_seq, entry_note) VALUES (1, 1, 1, 1, 'finished', CURRENT_TIMESTAMP, '[]', 1, 1, 1, '')",
    "INSERT INTO response (id, attempt_id, question_id, answer, is_correct, seq, saved_at) "
    "VALUES (1, 1, 1, '[true]', true, 1, CURRENT_TIMESTAMP)",
    "INSERT INTO key_correction (id, question_id, old_answer, new_answer, reason, attempts_regraded, created_at) "
    "VALUES (1, 1, '[false]', '[true]', '核对', 1, CURRENT_TIMESTAMP)",
]


def test_upgrading_a_database_with_data_keeps_it_and_makes_every_question_built_in(bare_app):
    """Nothing recorded who imported a question, so all become built-in; the tables rebuilt on SQLite
    (batch mode) keep every row, including the responses that refer to them."""
    with bare_app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as conn:
            for statement in SEED_0004:
                conn.exec_driver_sql(statement)
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM response").scalar() == 1
            assert conn.exec_driver_sql("SELECT owner_org_id FROM question").all() == [(None,)]
            row = conn.exec_driver_sql(
                "SELECT attempts_regraded, members, scores_changed, passes_changed, reverts_id FROM key_correction"
            ).one()
            assert tuple(row) == (1, 0, 0, 0, None)
            if db.engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        downgrade(revision="0004")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM response").scalar() == 1


def test_the_point_named_with_a_paraphrase_takes_the_constitutions_word_and_keeps_its_questions(bare_app):
    """i15k: 谋取 -> 谋求 (Article 2), the same row, so questions, tallies and notes stay attached."""
    with bare_app.app_context():
        upgrade(revision="i16m")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO knowledge_point (id, level, name, position) VALUES (7, 'point', '党员不得谋取私利和特权', 0)"
            )
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT id, name FROM knowledge_point").all() == [(7, "党员不得谋求私利和特权")]
        downgrade(revision="i16m")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM knowledge_point WHERE id = 7").scalar() == "党员不得谋取私利和特权"


def test_subjects_arrive_with_the_constitution_as_the_built_in_one_and_each_committees_parts_as_its_own(bare_app):
    """i15s: every node starts in the built-in subject (row 1); a part a committee's import added at the top
    moves, with everything under it, into a subject of that committee; a point it added under a chapter of
    the 党章 stays there; the question on it keeps its point; a new subject gets the next id (PostgreSQL's
    sequence moved past the row the migration wrote)."""
    with bare_app.app_context():
        upgrade(revision="i15k")
        with db.engine.begin() as conn:
            for statement in (
                "INSERT INTO organisation (id, name, code, kind, path, position, created_at) "
                "VALUES (1, '某某党委', 'c1', 'committee', '/1/', 0, '2026-01-01 00:00:00')",
                "INSERT INTO knowledge_point (id, level, name, position) VALUES (1, 'part', '第一章 党员', 1)",
                "INSERT INTO knowledge_point (id, parent_id, level, name, position) VALUES (2, 1, 'article', '第一条 入党条件', 0)",
                "INSERT INTO knowledge_point (id, parent_id, level, name, position, owner_org_id) "
                "VALUES (3, 2, 'point', '本委自加的党章知识点', 0, 1)",
                "INSERT INTO knowledge_point (id, level, name, position, owner_org_id) VALUES (4, 'part', '党纪学习教育', 20, 1)",
                "INSERT INTO knowledge_point (id, parent_id, level, name, position, owner_org_id) "
                "VALUES (5, 4, 'article', '党纪学习教育', 0, 1)",
                "INSERT INTO knowledge_point (id, parent_id, level, name, position, owner_org_id) "
                "VALUES (6, 5, 'point', '六项纪律', 0, 1)",
                "INSERT INTO question (id, key, revision, is_current, retired, kind, stem, options, answer, explanation, "
                "article, point_id, difficulty, version, source, owner_org_id, created_at) VALUES (1, 'o-1', 1, true, false, "
                "'truefalse', '题干', '[]', '[true]', '', '', 6, 1, '2022', '', 1, '2026-01-01 00:00:00')",
            ):
                conn.exec_driver_sql(statement)
        upgrade()
        with db.engine.begin() as conn:
            subjects = conn.exec_driver_sql("SELECT id, name, owner_org_id FROM subject ORDER BY id").all()
            assert [tuple(s) for s in subjects] == [(1, "中国共产党章程（2022年修订）", None), (2, "某某党委题库", 1)]
            placed = dict(conn.exec_driver_sql("SELECT id, subject_id FROM knowledge_point").all())
            assert placed == {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 2}
            assert conn.exec_driver_sql("SELECT point_id FROM question WHERE id = 1").scalar() == 6
            # Names are unique per subject now: another subject may have a part called 第一章 党员.
            conn.exec_driver_sql(
                "INSERT INTO subject (name, description, position, created_at) VALUES ('支部工作', '', 3, '2026-01-02 00:00:00')"
            )
            new_id = conn.exec_driver_sql("SELECT max(id) FROM subject").scalar()
            assert new_id == 3
            conn.exec_driver_sql(
                f"INSERT INTO knowledge_point (id, level, name, position, subject_id) VALUES (7, 'part', '第一章 党员', 0, {new_id})"
            )
            # An insert that names no subject (the previous release's code) lands in the built-in one.
            conn.exec_driver_sql("INSERT INTO knowledge_point (id, level, name, position) VALUES (8, 'point', '旧代码写的点', 0)")
            assert conn.exec_driver_sql(
                "SELECT subject_id FROM knowledge_point WHERE name = '旧代码写的点'").scalar() == 1
