"""stop-loss alerts: a guard KPI, operator and threshold on alert rules (nullable; existing rules keep theirs)

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-30 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert_rule") as batch:
        batch.add_column(sa.Column("guard_kpi", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("guard_op", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("guard_threshold", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_rule") as batch:
        batch.drop_column("guard_threshold")
        batch.drop_column("guard_op")
        batch.drop_column("guard_kpi")
