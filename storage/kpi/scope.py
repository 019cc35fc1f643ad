"""Who a figure is about: the whole team, everyone holding a role, or one member."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScopeKind = Literal["team", "role", "member"]


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind = "team"
    key: str = ""  # '' | role id | member key

    @classmethod
    def team(cls) -> Scope:
        return cls("team", "")

    @classmethod
    def role(cls, role_id: str) -> Scope:
        return cls("role", role_id)

    @classmethod
    def member(cls, member_key: str) -> Scope:
        return cls("member", member_key)

    def __str__(self) -> str:
        return "team" if self.kind == "team" else f"{self.kind}:{self.key}"
