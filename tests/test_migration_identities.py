"""Migration 0003: chat ids written at revision 0002 (member.slack_user_id / feishu_open_id) become
identity rows, and the members are still found by them (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from storage.db import Database, alembic_config
from storage.repositories import members as member_repo

ROWS_AT_0002 = [
    # key, email, slack_user_id, feishu_open_id
    ("anna@shop.com", "anna@shop.com", "U0ANNA", "ou_anna"),
    ("ben", None, "U0BEN", None),
    ("chen@shop.com", "chen@shop.com", None, "ou_chen"),
    ("dora", None, None, None),
]


def write_rows_at_0002(db: Database) -> None:
    command.upgrade(alembic_config(db.url, db.engine), "0002")
    with db.engine.begin() as conn:
        for key, email, slack_id, open_id in ROWS_AT_0002:
            conn.execute(
                text("INSERT INTO member (key, email, slack_user_id, feishu_open_id, is_admin, created_at) "
                     "VALUES (:key, :email, :slack, :feishu, :admin, CURRENT_TIMESTAMP)"),
                {"key": key, "email": email, "slack": slack_id, "feishu": open_id, "admin": key == "ben"},
            )


def test_upgrade_carries_slack_and_feishu_ids_into_identities(database_url: str) -> None:
    db = Database(database_url)
    try:
        write_rows_at_0002(db)
        db.upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT i.platform, i.user_id, m.key FROM identity i JOIN member m ON m.id = i.member_id "
                "ORDER BY i.platform, i.user_id"
            )).all()
        # 3 Slack ids + 2 Feishu ids in the fixture; dora had none.
        assert [tuple(row) for row in rows] == [
            ("feishu", "ou_anna", "anna@shop.com"),
            ("feishu", "ou_chen", "chen@shop.com"),
            ("slack", "U0ANNA", "anna@shop.com"),
            ("slack", "U0BEN", "ben"),
        ]
        columns = {column["name"] for column in inspect(db.engine).get_columns("member")}
        assert "slack_user_id" not in columns and "feishu_open_id" not in columns
        with db.session() as session:
            assert member_repo.member_by_platform_id(session, "slack", "U0BEN").key == "ben"
            assert member_repo.member_by_platform_id(session, "feishu", "ou_chen").key == "chen@shop.com"
            assert member_repo.member_by_platform_id(session, "slack", "U0NOBODY") is None
            # A new platform needs no new column: a DingTalk staff id links like the others.
            dora = member_repo.member_by_key(session, "dora")
            member_repo.link_platform_id(session, dora, "dingtalk", "0420")
        with db.session() as session:
            assert member_repo.member_by_platform_id(session, "dingtalk", "0420").key == "dora"
            ben = member_repo.member_by_key(session, "ben")
            assert [(i.platform, i.user_id) for i in member_repo.identities_of(session, [ben.id])] == [
                ("slack", "U0BEN")
            ]
    finally:
        db.dispose()


def test_downgrade_puts_one_id_per_platform_back(database_url: str) -> None:
    db = Database(database_url)
    try:
        write_rows_at_0002(db)
        db.upgrade()
        command.downgrade(alembic_config(db.url, db.engine), "0002")
        with db.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT key, slack_user_id, feishu_open_id FROM member ORDER BY key"
            )).all()
        assert [tuple(row) for row in rows] == [(key, s, f) for key, _, s, f in ROWS_AT_0002]
        assert "identity" not in inspect(db.engine).get_table_names()
    finally:
        db.dispose()


def test_linking_moves_an_id_from_one_member_to_another(db: Database) -> None:
    with db.session() as session:
        first = member_repo.ensure_member(session, "first")
        second = member_repo.ensure_member(session, "second")
        member_repo.link_platform_id(session, first, "feishu", "ou_moving")
        member_repo.link_platform_id(session, second, "feishu", "ou_moving")
    with db.session() as session:
        assert member_repo.member_by_platform_id(session, "feishu", "ou_moving").key == "second"
        assert member_repo.identities_of(session, [first.id]) == []


def test_upgrade_keeps_role_assignments(database_url: str) -> None:
    """SQLite rebuilds the member table; the rows pointing at it must survive."""
    db = Database(database_url)
    try:
        write_rows_at_0002(db)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO role_assignment (member_id, role, assigned_at) "
                              "SELECT id, 'host', CURRENT_TIMESTAMP FROM member WHERE key = 'anna@shop.com'"))
        db.upgrade()
        with db.session() as session:
            assert member_repo.role_map(session) == {"anna@shop.com": ["host"]}
    finally:
        db.dispose()
