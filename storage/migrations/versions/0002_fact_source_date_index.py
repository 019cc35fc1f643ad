"""fact (source, date) index: freshness per source without scanning every fact

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_fact_source_date", "fact", ["source", "date"])


def downgrade() -> None:
    op.drop_index("ix_fact_source_date", table_name="fact")
