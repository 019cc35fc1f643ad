"""Who a figure is about: the whole team, everyone holding a role, one member, or one shop — a role
or member can also be narrowed to one shop (`gmv month shop:tiktok-us role:host`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

ScopeKind = Literal["team", "role", "member", "shop"]


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind = "team"
    key: str = ""  # '' | role id | member key | shop key
    shop: str = ""  # '' = every shop; else only this shop's rows (kind "shop": the same as key)

    @classmethod
    def team(cls) -> Scope:
        return cls("team", "")

    @classmethod
    def role(cls, role_id: str) -> Scope:
        return cls("role", role_id)

    @classmethod
    def member(cls, member_key: str) -> Scope:
        return cls("member", member_key)

    @classmethod
    def of_shop(cls, shop_key: str) -> Scope:
        return cls("shop", shop_key, shop_key)

    def in_shop(self, shop_key: str) -> Scope:
        """This scope narrowed to one shop (the team narrowed to a shop is the shop)."""
        if self.kind in ("team", "shop"):
            return Scope.of_shop(shop_key)
        return replace(self, shop=shop_key)

    @property
    def inner_shop(self) -> str:
        """The shop a role or member is narrowed to ('' for the team, a shop itself, or every shop): the
        `shop` of a target row."""
        return self.shop if self.kind in ("role", "member") else ""

    @property
    def filter_kind(self) -> tuple[str, bool]:
        """Which fixed SQL filter reads this scope: (whose rows, narrowed to a shop)."""
        return self.kind, bool(self.shop) and self.kind != "shop"

    def __str__(self) -> str:
        base = "team" if self.kind == "team" else f"{self.kind}:{self.key}"
        return f"{base} shop:{self.shop}" if self.shop and self.kind != "shop" else base
