"""identity table: (platform, user id) -> member, replacing member.slack_user_id / feishu_open_id

Existing Slack and Feishu ids are carried over, one identity row each; then the per-platform
columns go. Downgrade puts one id per platform back (the oldest link) and drops the table.

Revision ID: 0003
Revises: 0006
Create Date: 2026-11-30 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# platform name -> the member column that held its ids at revision 0002
OLD_COLUMNS = {"slack": ("slack_user_id", 64), "feishu": ("feishu_open_id", 128)}


def upgrade() -> None:
    op.create_table(
        "identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "user_id", name="uq_identity_platform_user"),
    )
    op.create_index("ix_identity_member_id", "identity", ["member_id"])
    for platform, (column, _) in OLD_COLUMNS.items():
        op.execute(
            sa.text(
                f"INSERT INTO identity (platform, user_id, member_id, created_at) "
                f"SELECT :platform, {column}, id, created_at FROM member WHERE {column} IS NOT NULL"
            ).bindparams(platform=platform)
        )
    # SQLite rebuilds the table (batch mode); the unnamed UNIQUE constraints go with their columns.
    with op.batch_alter_table("member", recreate="auto") as batch:
        for column, _ in OLD_COLUMNS.values():
            batch.drop_column(column)


def downgrade() -> None:
    with op.batch_alter_table("member") as batch:
        for column, length in OLD_COLUMNS.values():
            batch.add_column(sa.Column(column, sa.String(length=length), nullable=True))
            batch.create_unique_constraint(f"uq_member_{column}", [column])
    for platform, (column, _) in OLD_COLUMNS.items():
        op.execute(
            sa.text(
                f"UPDATE member SET {column} = (SELECT i.user_id FROM identity i WHERE i.member_id = member.id "
                f"AND i.platform = :platform ORDER BY i.id LIMIT 1)"
            ).bindparams(platform=platform)
        )
    op.drop_index("ix_identity_member_id", table_name="identity")
    op.drop_table("identity")
