"""target.shop and alert_rule.shop: a role's or a member's target or alert inside one shop
(`target set gmv 80k shop:tiktok-us role:host`, `alert add roas < 1.5 when ad_spend >= 500 today shop:S role:R`)

Existing targets and alert rules keep their values and get shop '' (every shop: as before). The target's
unique key becomes (kpi, scope_kind, scope_key, shop, period_key).

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
    with op.batch_alter_table("alert_rule") as batch:
        batch.add_column(sa.Column("shop", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    # Targets and alerts inside a shop have no place in the old schema: they go (the others stay).
    op.execute("DELETE FROM target WHERE shop <> ''")
    op.execute("UPDATE alert_rule SET active = false WHERE shop <> ''")
    with op.batch_alter_table("alert_rule") as batch:
        batch.drop_column("shop")
    with op.batch_alter_table("target") as batch:
        batch.drop_constraint("uq_target", type_="unique")
        batch.create_unique_constraint("uq_target", ["kpi", "scope_kind", "scope_key", "period_key"])
        batch.drop_column("shop")
