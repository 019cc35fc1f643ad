"""action items; digest history; digest subscriptions with daily cadence, a scope, a KPI list and direct messages

Existing subscriptions keep their rows: the new columns default to a channel digest of the whole team.

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-30 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("digest_subscription") as batch:
        batch.add_column(sa.Column("direct", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("scope_kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
                                   server_default="team"))
        batch.add_column(sa.Column("scope_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("kpis", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False,
                                   server_default=""))
    op.create_table(
        "action_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("due_label", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kpi", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("kpi_baseline", sa.Float(), nullable=True),
        sa.Column("kpi_baseline_period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_action_item_owner", "action_item", ["owner"])
    op.create_table(
        "digest_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("cadence", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("period_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_digest_post_subscription_id", "digest_post", ["subscription_id"])
    op.create_index("ix_action_item_status_due", "action_item", ["status", "due"])


def downgrade() -> None:
    op.drop_index("ix_digest_post_subscription_id", table_name="digest_post")
    op.drop_table("digest_post")
    op.drop_index("ix_action_item_status_due", table_name="action_item")
    op.drop_index("ix_action_item_owner", table_name="action_item")
    op.drop_table("action_item")
    with op.batch_alter_table("digest_subscription") as batch:
        batch.drop_column("kpis")
        batch.drop_column("scope_key")
        batch.drop_column("scope_kind")
        batch.drop_column("direct")
