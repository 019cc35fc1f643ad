"""Why a KPI moved: its change against a reference, split exactly into its driver tree's factors (LMDI-I),
the members, shops and sources whose own change accounts for most of it, and the notes of those days.

Queries: the current window's sums (its newest day sets how many days are like for like), then the reference
windows' with the members', shops' and sources' sums over all of them (for a finished period, whose days are
all compared, everything in one statement), the notes, and the display names of the members named: three to
five statements whatever the data size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session

from storage.kpi.compiled import compiled
from storage.kpi.drivers import DriverTree, Factor, tree_for
from storage.kpi.engine import KpiEngine
from storage.kpi.lmdi import lmdi
from storage.kpi.periods import Period
from storage.kpi.references import BASELINE, KINDS, PREVIOUS, Reference, elapsed_days, reference, scaled
from storage.kpi.registry import KpiDef
from storage.kpi.scope import Scope
from storage.models_review import Note
from storage.repositories import baselines as baseline_repo
from storage.repositories import members as member_repo
from storage.repositories import notes as note_repo
from storage.repositories.series import (
    SPLITS,
    WindowSums,
    splits_window_sums,
    window_and_split_sums,
    window_sums,
)

MOVER_COUNT = 3
UNATTRIBUTED = ""  # fact rows not attributed to a person (shop-level) or to no named shop


@dataclass(frozen=True)
class Compared:
    """A KPI's current window against each reference that was asked for."""

    kpi: KpiDef
    scope: Scope
    period: Period
    days: int  # like-for-like days of the current period
    through: date | None
    current: dict[str, float]
    references: dict[str, tuple[Reference, dict[str, float] | None]]  # kind → (reference, its scaled sums)

    @property
    def value(self) -> float | None:
        return _value(self.kpi, self.current) if self.through else None

    def reference_value(self, kind: str) -> float | None:
        found = self.references.get(kind)
        return _value(self.kpi, found[1]) if found and found[1] is not None else None

    def change(self, kind: str) -> float | None:
        """Relative change against the reference, e.g. −0.04 = −4 %; None without both values."""
        now, then = self.value, self.reference_value(kind)
        if now is None or then is None or then == 0:
            return None
        return (now - then) / abs(then)


def _value(kpi: KpiDef, sums: dict[str, float]) -> float | None:
    return _evaluated(compiled(kpi.formula), kpi.metrics, sums)


def _evaluated(evaluate: Callable[[dict[str, float]], float | None], metrics: list[str], sums: dict[str, float],
               ) -> float | None:
    """The formula over the sums; None when none of its metrics has rows (missing is not zero)."""
    return None if sums.keys().isdisjoint(metrics) else evaluate(sums)


def compare(
    engine: KpiEngine, kpi: KpiDef, scope: Scope, period: Period, kinds: tuple[str, ...] = KINDS,
    *, extra_metrics: list[str] | None = None,
) -> Compared:
    with engine.db.session() as session:
        return _compare(session, engine, [kpi], scope, period, kinds, extra_metrics or [])[0][0]


def compare_many(
    engine: KpiEngine, kpis: list[KpiDef], scope: Scope, period: Period, kinds: tuple[str, ...] = KINDS,
) -> list[Compared]:
    """`compare` for several KPIs of one scope and period in three statements (a digest's team KPIs)."""
    if not kpis:
        return []
    with engine.db.session() as session:
        return _compare(session, engine, kpis, scope, period, kinds, [])[0]


Splits = dict[str, list[dict[str, WindowSums]]]  # split by → per window (current first) → key → sums


def _compare(
    session: Session, engine: KpiEngine, kpis: list[KpiDef], scope: Scope, period: Period, kinds: tuple[str, ...],
    extra_metrics: list[str], *, split_by: Sequence[str] = (),
) -> tuple[list[Compared], Splits | None]:
    """Each KPI against each reference. With `split_by`, the KPI's sums split by those fact columns over the
    current window and the one reference's windows come in the same statement when those windows are known
    before reading (a finished period); else None, and the caller reads them once the days are known."""
    metrics = list(dict.fromkeys([*(m for kpi in kpis for m in kpi.metrics), *extra_metrics]))
    # A finished period is compared over all its days whatever its data, so its references are known before
    # reading: the current window and theirs in one statement. Else its newest day sets the days first.
    today = engine.today()
    current = None if period.end < today else window_sums(session, metrics, scope, [(period.start, period.end)])[0]
    days = elapsed_days(period, current.newest if current else None, today)
    shared = [r for kind in kinds if kind != BASELINE
              and (r := reference(kind, engine.calendar, period, days)) is not None]
    named: dict[str, Reference] = {}
    if BASELINE in kinds:
        for kpi_id, row in baseline_repo.baselines_for(session, [k.id for k in kpis], scope).items():
            if (key := engine.calendar.from_key(row.period_key)) is not None:
                named[kpi_id] = reference(BASELINE, engine.calendar, period, days, key)  # type: ignore[assignment]
    refs = [*shared, *named.values()]
    ref_windows = [window for r in refs for window in r.windows]
    splits: Splits | None = None
    if current is None and split_by and len(refs) == 1 and len(kpis) == 1:
        (current, *found), splits = window_and_split_sums(session, metrics, scope, [(period.start, period.end),
                                                          *ref_windows], split_by, kpis[0].metrics)
    elif current is None:
        current, *found = window_sums(session, metrics, scope, [(period.start, period.end), *ref_windows])
    else:
        found = window_sums(session, metrics, scope, ref_windows)
    # A window that starts before the scope's first data here is only partly covered: left out, not read as low.
    first_data = min((w.oldest for w in [current, *found] if w.oldest is not None), default=None)
    covered: dict[int, list[dict[str, float]]] = {}
    at = 0
    for r in refs:
        windows = zip(r.windows, found[at: at + len(r.windows)], strict=True)
        covered[id(r)] = [w.sums for (start, _), w in windows if first_data is not None and start >= first_data]
        at += len(r.windows)
    out = []
    for kpi in kpis:
        wanted = set(kpi.metrics) | set(extra_metrics)  # a window "has data" for this KPI by its own metrics
        mine = [*shared, *([named[kpi.id]] if kpi.id in named else [])]
        references = {r.kind: (r, scaled([{m: v for m, v in w.items() if m in wanted} for w in covered[id(r)]],
                                         r.scale)) for r in mine}
        out.append(Compared(kpi, scope, period, days, current.newest, current.sums, references))
    return out, splits


@dataclass(frozen=True)
class FactorMove:
    factor: Factor
    before: float | None
    after: float | None
    contribution: float | None  # None when the change cannot be split (see Why.blocked)


@dataclass(frozen=True)
class MemberMove:
    """One member's (or shop's, or source's) own change; `member` holds the key of whichever was split by."""

    member: str  # UNATTRIBUTED for shop-level rows (or rows naming no shop)
    name: str
    before: float | None
    after: float | None
    share: float | None  # of the total change (summed KPIs only)

    @property
    def change(self) -> float | None:
        if self.before is None and self.after is None:
            return None
        return (self.after or 0.0) - (self.before or 0.0)


@dataclass(frozen=True)
class Why:
    compared: Compared
    against: str  # reference kind
    tree: DriverTree | None
    factors: list[FactorMove] = field(default_factory=list)
    blocked: list[FactorMove] = field(default_factory=list)  # zero or missing factors that stop the split
    movers: list[MemberMove] = field(default_factory=list)
    shops: list[MemberMove] = field(default_factory=list)  # only when the data names more than one shop
    sources: list[MemberMove] = field(default_factory=list)  # only when it came from more than one source
    notes: list[Note] = field(default_factory=list)

    @property
    def before(self) -> float | None:
        return self.compared.reference_value(self.against)

    @property
    def after(self) -> float | None:
        return self.compared.value

    @property
    def change(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def reference(self) -> Reference | None:
        found = self.compared.references.get(self.against)
        return found[0] if found else None


def explain(engine: KpiEngine, kpi: KpiDef, scope: Scope, period: Period, against: str = PREVIOUS) -> Why:
    registry = engine.registry
    with engine.db.session() as session:
        tree = tree_for(registry, kpi.id, _roles_of(session, scope))
        splits = [by for by in SPLITS if by != scope.kind]  # a member's own why has no members to split by
        (compared,), windows = _compare(session, engine, [kpi], scope, period, (against,),
                                        tree.metrics if tree else [], split_by=splits)
        found = compared.references.get(against)
        why = Why(compared, against, tree)
        if found is None:
            return why
        ref, before_sums = found
        if windows is None:  # the current window's days were known only after reading it
            current_window = (period.start, period.start + timedelta(days=compared.days - 1))
            windows = splits_window_sums(session, kpi.metrics, scope, [current_window, *ref.windows], splits)
        moves = {by: _moves(session, kpi, compared, ref, by, windows[by]) for by in splits}
        movers, shops, sources = (moves.get(by, []) for by in SPLITS)
        notes = [n for n in note_repo.notes_between(session, min(w[0] for w in ref.windows), period.end)
                 if note_repo.applies_to(n, scope, kpi.id)]
    factors, blocked = _factor_moves(tree, before_sums, compared.current if compared.through else None)
    return Why(compared, against, tree, factors, blocked, movers, _if_split(shops), _if_split(sources), notes)


def _if_split(moves: list[MemberMove]) -> list[MemberMove]:
    """One shop (or source) carrying the whole change says nothing: shown only when the data has several."""
    return moves if len(moves) > 1 else []


def _roles_of(session: Session, scope: Scope) -> list[str]:
    if scope.kind == "role":
        return [scope.key]
    if scope.kind == "member":
        return member_repo.role_map(session).get(scope.key, [])
    return []


def _factor_moves(
    tree: DriverTree | None, before: dict[str, float] | None, after: dict[str, float] | None,
) -> tuple[list[FactorMove], list[FactorMove]]:
    if tree is None:
        return [], []
    x0 = tree.values(before) if before is not None else [None] * len(tree.factors)
    x1 = tree.values(after) if after is not None else [None] * len(tree.factors)
    split = lmdi(x0, x1)
    moves = [FactorMove(f, a, b, split.contributions[i] if split.contributions else None)
             for i, (f, a, b) in enumerate(zip(tree.factors, x0, x1, strict=True))]
    return moves, [moves[i] for i in split.blocked_by]


def _moves(
    session: Session, kpi: KpiDef, compared: Compared, ref: Reference, by: str, found: list[dict[str, WindowSums]],
) -> list[MemberMove]:
    """Members (and the shop-level rows), shops or sources (`by`) whose own change explains most of the total,
    from their sums over the current window and each reference window (`found`). For a summed KPI each one's
    change is a share of the scope's; for a ratio, each one's own value moved."""
    now, past = found[0], found[1:]
    evaluate, metrics, additive = compiled(kpi.formula), kpi.metrics, kpi.additive
    moves: list[tuple[str, float | None, float | None]] = []  # (key, before, after)
    for member in sorted(set(now) | {m for window in past for m in window}):
        after = _evaluated(evaluate, metrics, now[member].sums) if member in now else None
        before_sums = scaled([w[member].sums for w in past if member in w], ref.scale)
        before = _evaluated(evaluate, metrics, before_sums) if before_sums else None
        if additive:
            before, after = before or 0.0, after or 0.0
        moves.append((member, before, after))
    total = None
    if compared.value is not None and compared.reference_value(ref.kind) is not None:
        total = compared.value - compared.reference_value(ref.kind)  # type: ignore[operator]
    shares: dict[str, float] = {}
    if additive and total:
        shares = {m: ((after or 0.0) - (before or 0.0)) / total for m, before, after in moves}
        moves.sort(key=lambda m: (-shares[m[0]], m[0]))
    else:
        moves = [m for m in moves if m[1] and m[2] is not None]
        moves.sort(key=lambda m: (-abs((m[2] - m[1]) / m[1]), m[0]))  # type: ignore[operator]
    top = moves[:MOVER_COUNT]
    names = member_repo.display_names(session, [m for m, _, _ in top if m]) if by == "member" else {}
    return [MemberMove(m, names.get(m, m), before, after, shares.get(m)) for m, before, after in top]

