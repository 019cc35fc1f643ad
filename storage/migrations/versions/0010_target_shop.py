"""target.shop: a role's or a member's target inside one shop (`target set gmv 80k shop:tiktok-us role:host`)

Existing targets keep their values and get shop '' (every shop: team, role, member and shop targets as
before). The unique key becomes (kpi, scope_kind, scope_key, shop, period_key).

Revision ID: 0010
Revises: 0005
Create Date: 2026-11-30 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("target") as batch:
        batch.add_column(sa.Column("shop", sa.String(length=64), nullable=False, server_default=""))
        batch.drop_constraint("uq_target", type_="unique")
        batch.create_unique_constraint("uq_target", ["kpi", "scope_kind", "scope_key", "shop", "period_key"])


def downgrade() -> None:
    # Targets inside a shop have no place in the old key: they go (the shop's, role's and member's stay).
    op.execute("DELETE FROM target WHERE shop <> ''")
    with op.batch_alter_table("target") as batch:
        batch.drop_constraint("uq_target", type_="unique")
        batch.create_unique_constraint("uq_target", ["kpi", "scope_kind", "scope_key", "period_key"])
        batch.drop_column("shop")
