"""fact shop key and the original amount/currency of converted money; exchange rates by day or month

Existing facts keep their values and get shop '' (no shop named). The unique key becomes
(metric, date, member, shop, source).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fact") as batch:
        batch.add_column(sa.Column("shop", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("original_value", sa.Float(), nullable=True))
        batch.add_column(sa.Column("original_currency", sa.String(length=3), nullable=True))
        batch.drop_constraint("uq_fact", type_="unique")
        batch.create_unique_constraint("uq_fact", ["metric", "date", "member", "shop", "source"])
        batch.create_index("ix_fact_shop_metric_date", ["shop", "metric", "date"])
    op.create_table(
        "fx_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period_key", sa.String(length=10), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(length=320), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("currency", "period_key", name="uq_fx_rate"),
    )


def downgrade() -> None:
    op.drop_table("fx_rate")
    with op.batch_alter_table("fact") as batch:
        batch.drop_index("ix_fact_shop_metric_date")
        batch.drop_constraint("uq_fact", type_="unique")
        batch.create_unique_constraint("uq_fact", ["metric", "date", "member", "source"])
        batch.drop_column("original_currency")
        batch.drop_column("original_value")
        batch.drop_column("shop")
