"""conversation memory: the last understood question per (platform, conversation, user)

Revision ID: 0007
Revises: 0008
Create Date: 2026-11-30 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_memory",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("conversation", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("platform", "conversation", "user_id", name="uq_conversation_memory"),
    )
    op.create_index("ix_conversation_memory_asked_at", "conversation_memory", ["asked_at"])


def downgrade() -> None:
    op.drop_index("ix_conversation_memory_asked_at", table_name="conversation_memory")
    op.drop_table("conversation_memory")
