"""delivery_ledger.heartbeat_at: when the process sending a claimed row last showed it was alive

A row left `claimed` whose heartbeat is older than the claim timeout belongs to a process that died
mid-send; the leader resolves it (resend with the same idempotency key, or look it up, or tell admins).
Existing rows keep their data; their heartbeat stays empty and `claimed_at` stands in for it.

Revision ID: 0005
Revises: 0009
Create Date: 2026-11-30 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_ledger") as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_ledger") as batch_op:
        batch_op.drop_column("heartbeat_at")
