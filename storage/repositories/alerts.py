"""Alert rules and their state (clear / firing, acknowledgement, snooze)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import AlertRule, AlertState
from storage.repositories.upsert import deactivate, insert_ignore

OPS = ("<", "<=", ">", ">=")
MODES = ("value", "pace", "unusual", "stoploss")
SCOPE_KINDS = ("team", "role", "member", "shop")


def add_rule(
    session: Session, *, kpi: str, scope_kind: str, scope_key: str, mode: str, op: str, threshold: float,
    days: int, channel: str, lang: str, created_by: str, cooldown_hours: float = 24.0,
    guard: tuple[str, str, float] | None = None, shop: str = "",
) -> AlertRule:
    """`channel` is `platform:channel_id` (e.g. `slack:C123`). In pace mode `threshold` is a fraction
    of the pace (0.9 = 90 %). A stoploss rule's `guard` is (KPI, OP, threshold) on today's rows.
    `shop`: a role or member inside one shop (their rows there). Raises ValueError naming what is wrong."""
    if op not in OPS:
        raise ValueError(f"operator must be one of {' '.join(OPS)}, not {op!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be value, pace, unusual or stoploss, not {mode!r}")
    if (mode == "stoploss") != (guard is not None):
        raise ValueError("a stop-loss rule needs a guard (`when ad_spend >= 500 today`), and only it has one")
    if guard is not None and guard[1] not in OPS:
        raise ValueError(f"guard operator must be one of {' '.join(OPS)}, not {guard[1]!r}")
    if scope_kind not in SCOPE_KINDS:
        raise ValueError(f"scope must be team, role, member or shop, not {scope_kind!r}")
    if days < 1:
        raise ValueError("days must be at least 1")
    if cooldown_hours <= 0:
        raise ValueError("cooldown must be more than 0 hours")
    if ":" not in channel:
        raise ValueError(f"channel must be platform:channel_id, not {channel!r}")
    rule = AlertRule(
        kpi=kpi, scope_kind=scope_kind, scope_key=scope_key if scope_kind != "team" else "", mode=mode, op=op,
        shop=shop if scope_kind in ("role", "member") else "",
        threshold=float(threshold), days=int(days), channel=channel, lang="zh" if lang == "zh" else "en",
        cooldown_hours=float(cooldown_hours), created_by=created_by,
        guard_kpi=guard[0] if guard else None, guard_op=guard[1] if guard else None,
        guard_threshold=float(guard[2]) if guard else None,
    )
    session.add(rule)
    session.flush()
    return rule


def get_rule(session: Session, rule_id: int) -> AlertRule | None:
    return session.get(AlertRule, rule_id)


def list_rules(session: Session, *, active_only: bool = True) -> list[AlertRule]:
    stmt = select(AlertRule)
    if active_only:
        stmt = stmt.where(AlertRule.active == True)  # noqa: E712
    return list(session.exec(stmt.order_by(col(AlertRule.id))))


def deactivate_rule(session: Session, rule_id: int) -> AlertRule | None:
    """None when the rule is unknown or already inactive."""
    return deactivate(session, AlertRule, rule_id)


def states(session: Session, rule_ids: list[int]) -> dict[int, AlertState]:
    """The state rows of these rules (a rule never evaluated has none), in one query."""
    if not rule_ids:
        return {}
    rows = session.exec(select(AlertState).where(col(AlertState.rule_id).in_(rule_ids)))
    return {row.rule_id: row for row in rows}


def get_state(session: Session, rule_id: int) -> AlertState | None:
    return session.get(AlertState, rule_id)


def ensure_state(session: Session, rule_id: int) -> AlertState:
    """The rule's state row, created `clear` the first time (safe when two writers race)."""
    insert_ignore(
        session, AlertState.__table__,  # type: ignore[attr-defined]
        {"rule_id": rule_id, "state": "clear", "clear_streak": 0}, ["rule_id"],
    )
    state = session.get(AlertState, rule_id)
    assert state is not None
    return state


def states_of(session: Session, rule_ids: list[int]) -> dict[int, AlertState]:
    if not rule_ids:
        return {}
    rows = session.exec(select(AlertState).where(col(AlertState.rule_id).in_(rule_ids)))
    return {row.rule_id: row for row in rows}
