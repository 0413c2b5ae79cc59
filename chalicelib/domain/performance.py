"""The monthly per-OPD performance record (the Tukin review): what each figure means, as code.

Pure: `disposition_facts(...)` folds one report's event log into one `Fact` per disposition to an
OPD; `scoreboard(facts, now)` turns a month's facts into the figures, keeping for each figure the
tracking ids behind it (`in_figure` is the one predicate the counts and the drill-down share).
Every figure's definition: docs/PERFORMANCE.md.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from chalicelib.domain import clock
from chalicelib.domain.calendar import WorkingCalendar
from chalicelib.domain.sla import RESPON_OPD, TINDAK_LANJUT, VERIFIKASI, PausedClock, SlaPolicy, deadline
from chalicelib.domain.workflow import Status

DISPOSING_ACTIONS = frozenset({"verify", "redispose"})
# The OPD's public words to the reporter that count as its first response (not `accept`).
FIRST_RESPONSE_ACTIONS = frozenset({"respond", "progress", "request_info"})
# Statuses in which the report waits on the OPD it was forwarded to.
WAITING_ON_OPD = frozenset({Status.DIDISPOSISIKAN.value, Status.DIPROSES.value})
CLOSED = frozenset({Status.SELESAI.value, Status.DITOLAK.value})

ON_TIME, LATE, PENDING, WITHDRAWN = "on_time", "late", "pending", "withdrawn"

# Figures with a list of reports behind them (the drill-down's `figure=`), in display order.
FIGURES: tuple[str, ...] = (
    "received", "responded", "responded_on_time", "late", "pending", "withdrawn",
    "overdue_open", "returned", "breaches", "rated",
)


@dataclass(frozen=True)
class Step:
    """One event of a report's audit trail, as the fold needs it."""

    seq: int
    at: datetime
    action: str
    from_status: str | None = None
    to_status: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """What chooses the SLA rule of a report (config/sla.json's tindak_lanjut cases)."""

    report_type: str | None = None
    category: str | None = None
    classification: str | None = None


@dataclass(frozen=True)
class Fact:
    """One disposition of one report to one OPD. Instants are ISO 8601 UTC strings (they sort)."""

    tracking_id: str
    opd_code: str
    seq: int  # of the verify/redispose event
    month: str  # YYYY-MM (WIB) of disposed_at
    disposed_at: str
    response_due_at: str
    accepted_at: str | None = None
    accepted_late: bool = False
    first_response_at: str | None = None
    first_response_seq: int | None = None
    first_response_hours: float | None = None
    on_time: bool | None = None  # decided at the first response
    ended_at: str | None = None  # the report left this OPD (returned, redisposed, closed)
    ended_by: str | None = None  # the action that ended it
    returned: bool = False
    breach_seqs: tuple[int, ...] = ()
    rating: int | None = None
    holding: bool = True  # as of basis_seq: with this OPD and waiting on it
    stage: str | None = RESPON_OPD  # the OPD's stage while holding
    stage_due_at: str | None = None  # its deadline (overdue_open)
    # The OPD's stage stopped by its own request for information (sla.PausedClock's fields).
    paused_due_at: str | None = None
    paused_remaining: int | None = None
    paused_breached: bool = False
    basis_seq: int = 0  # the last event folded in
    merged_into: str | None = None  # the report was merged into this primary: counted there
    # Figures an accepted objection took this fact out of (chalicelib.domain.month_close). Set
    # when a month is read, never by the fold: the stored facts stay the audit trail's fold.
    waived: tuple[str, ...] = ()
    # Diskominfotik's verification before this disposition, when it forwarded a report waiting
    # at the desk (`diajukan`): since when it waited, its 3 HK deadline, the working hours taken,
    # and whether the sweep recorded a verification breach. None on a redisposition.
    desk_since: str | None = None
    desk_due_at: str | None = None
    desk_hours: float | None = None
    desk_breached: bool = False

    @property
    def key(self) -> str:
        """Unique within a month: `<OPD>#<tracking_id>#<seq>` (the storage sort key)."""
        return f"{self.opd_code}#{self.tracking_id}#{self.seq:06d}"

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["breach_seqs"] = list(self.breach_seqs)
        out["waived"] = list(self.waived)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Fact:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        values["breach_seqs"] = tuple(int(s) for s in values.get("breach_seqs") or ())
        values["waived"] = tuple(str(s) for s in values.get("waived") or ())
        for name in ("seq", "basis_seq"):
            values[name] = int(values.get(name) or 0)
        if values.get("first_response_seq") is not None:
            values["first_response_seq"] = int(values["first_response_seq"])
        if values.get("rating") is not None:
            values["rating"] = int(values["rating"])
        if values.get("paused_remaining") is not None:
            values["paused_remaining"] = int(values["paused_remaining"])
        for name in ("first_response_hours", "desk_hours"):
            if values.get(name) is not None:
                values[name] = float(values[name])
        return cls(**values)


# -- 1. the fold: events -> facts -----------------------------------------------------------

def _iso(at: datetime) -> str:
    return clock.iso_utc(at)


def _rating(data: Mapping[str, Any]) -> int | None:
    value = data.get("rating")
    if isinstance(value, bool) or value is None:
        return None
    try:
        rating = int(value)
    except (TypeError, ValueError):
        return None
    return rating if 1 <= rating <= 5 else None


def _breach_is_theirs(step: Step, opd_code: str) -> bool:
    # The sweep names who owed the step (sla_plan.responsible_opd); older events may only name
    # the stage, which is the current OPD's when it is one of its stages.
    owner = step.data.get("opd_code")
    if owner:
        return str(owner) == opd_code
    return step.data.get("stage") in (RESPON_OPD, TINDAK_LANJUT)


def disposition_facts(tracking_id: str, steps: Iterable[Step], *, policy: SlaPolicy,
                      calendar: WorkingCalendar, case: Case = Case()) -> list[Fact]:
    """Every disposition of one report, folded from its events (in seq order, whatever the input
    order). Deterministic: the same events, calendar and policy give the same facts."""

    def due(stage: str, start: datetime) -> str:
        return _iso(deadline(policy, calendar, stage, start, case.report_type, case.category,
                             classification=case.classification))

    out: list[Fact] = []
    current: Fact | None = None  # the disposition in force
    status: str | None = None
    last_seq = 0
    desk_since: datetime | None = None  # the report waits at Diskominfotik's desk since then
    desk_breached = False
    ordered = sorted(steps, key=lambda s: s.seq)
    for step in ordered:
        last_seq = step.seq
        new_status = step.to_status or status
        at = _iso(step.at)
        opd = step.data.get("opd_code")
        if new_status == Status.DIAJUKAN.value and status != Status.DIAJUKAN.value:
            desk_since, desk_breached = step.at, False  # the verification stage starts afresh
        if step.action == "sla_breach" and step.data.get("stage") == VERIFIKASI:
            desk_breached = True
        if step.action in DISPOSING_ACTIONS and new_status == Status.DIDISPOSISIKAN.value:
            if current is not None:
                out.append(_leave(current, at, step.action))
                current = None
            if opd:  # the workflow names the OPD in data.opd_code; without it nobody can be credited
                first_due = due(RESPON_OPD, step.at)
                desk: dict[str, Any] = {}
                if status == Status.DIAJUKAN.value and desk_since is not None:
                    desk = {"desk_since": _iso(desk_since), "desk_due_at": due(VERIFIKASI, desk_since),
                            "desk_hours": round(calendar.working_hours_between(desk_since, step.at), 4),
                            "desk_breached": desk_breached}
                current = Fact(tracking_id=tracking_id, opd_code=str(opd), seq=step.seq,
                               month=clock.month_wib(step.at), disposed_at=at, response_due_at=first_due,
                               stage=RESPON_OPD, stage_due_at=first_due, **desk)
        elif current is not None:
            current = _apply(current, step, at, status, new_status, due, calendar)
            if current.returned:  # back at the admin desk: the next disposition is a new fact
                out.append(current)
                current = None
        status = new_status
        if current is not None and current.ended_at is None:
            if status in WAITING_ON_OPD:
                current = replace(current, holding=True)
            else:  # the reporter owes the next step: no OPD clock runs
                current = replace(current, holding=False, stage=None, stage_due_at=None)
    if current is not None:
        out.append(current)
    merged = next((str(s.data.get("primary")) for s in ordered if s.action == "merge" and s.data.get("primary")), None)
    return [replace(f, basis_seq=last_seq, merged_into=merged) for f in out]


def _leave(fact: Fact, at: str, action: str, **changes: Any) -> Fact:
    """The report left this OPD (handed back, moved to another OPD, closed)."""
    return replace(fact, ended_at=at, ended_by=action, holding=False, stage=None, stage_due_at=None, **changes)


def _apply(fact: Fact, step: Step, at: str, status: str | None, new_status: str | None,
           due: Callable[[str, datetime], str], calendar: WorkingCalendar) -> Fact:
    """One event applied to the disposition in force."""
    answered = fact.first_response_at is not None
    if step.action == "accept" and not answered:
        tl_due = due(TINDAK_LANJUT, step.at)
        fact = replace(fact, accepted_at=at, accepted_late=at > fact.response_due_at,
                       response_due_at=tl_due)
    if step.action in FIRST_RESPONSE_ACTIONS and not answered and step.data.get("asked_by") != "admin":
        hours = calendar.working_hours_between(clock.parse(fact.disposed_at), step.at)
        fact = replace(fact, first_response_at=at, first_response_seq=step.seq,
                       first_response_hours=round(hours, 4),
                       on_time=(not fact.accepted_late) and at <= fact.response_due_at)
    if (step.action == "request_info" and status == Status.DIPROSES.value
            and new_status == Status.PERLU_KELENGKAPAN.value and fact.stage_due_at):
        stopped = PausedClock.stop(calendar, TINDAK_LANJUT, clock.parse(fact.stage_due_at), step.at)
        fact = replace(fact, paused_due_at=_iso(stopped.due_at), paused_remaining=stopped.remaining,
                       paused_breached=stopped.breached)
    if step.action == "return":
        fact = _leave(fact, at, "return", returned=True)
    if step.action == "sla_breach" and _breach_is_theirs(step, fact.opd_code):
        fact = replace(fact, breach_seqs=(*fact.breach_seqs, step.seq))
    if step.action == "feedback":
        rating = _rating(step.data)
        if rating is not None:
            fact = replace(fact, rating=rating)
    if (new_status in CLOSED or step.action == "merge") and fact.ended_at is None:
        fact = _leave(fact, at, step.action)
    # Entering an OPD stage (accept, or a reopen by the reporter) starts its clock afresh; the
    # reply to the OPD's own request resumes the stopped one.
    if new_status == Status.DIPROSES.value and new_status != status:
        if status == Status.PERLU_KELENGKAPAN.value and fact.paused_due_at and fact.paused_remaining is not None:
            stopped = PausedClock(TINDAK_LANJUT, clock.parse(fact.paused_due_at), fact.paused_remaining,
                                  fact.paused_breached)
            resumed = _iso(stopped.resumed_due(calendar, step.at))
        else:
            resumed = due(TINDAK_LANJUT, step.at)
        fact = replace(fact, stage=TINDAK_LANJUT, stage_due_at=resumed, paused_due_at=None,
                       paused_remaining=None, paused_breached=False)
    return fact


# -- 2. the figures: facts -> scoreboard ----------------------------------------------------

def outcome(fact: Fact, now: datetime) -> str:
    """on_time | late | pending | withdrawn (see the module's definitions). A `late` waived by an
    accepted objection counts as on time when the OPD answered, as withdrawn when it did not."""
    result = _outcome(fact, now)
    if result == LATE and LATE in fact.waived:
        return ON_TIME if fact.first_response_at is not None else WITHDRAWN
    return result


def _outcome(fact: Fact, now: datetime) -> str:
    if fact.first_response_at is not None:
        return ON_TIME if fact.on_time else LATE
    cutoff = fact.ended_at or _iso(now)
    missed = fact.accepted_late or cutoff > fact.response_due_at
    if fact.ended_at is not None:
        return LATE if missed else WITHDRAWN
    return LATE if missed else PENDING


def is_overdue(fact: Fact, now: datetime) -> bool:
    if "overdue_open" in fact.waived:
        return False
    return fact.holding and fact.stage_due_at is not None and _iso(now) > fact.stage_due_at


def in_figure(fact: Fact, figure: str, now: datetime) -> bool:
    """Whether `fact` is counted in `figure` at `now`: the single rule behind counts and lists."""
    if fact.merged_into:
        return False  # counted on its primary
    if figure == "received":
        return True
    if figure == "responded":
        return fact.first_response_at is not None
    if figure == "responded_on_time":
        return outcome(fact, now) == ON_TIME
    if figure in (LATE, PENDING, WITHDRAWN):
        return outcome(fact, now) == figure
    if figure == "overdue_open":
        return is_overdue(fact, now)
    if figure == "returned":
        return fact.returned
    if figure == "breaches":
        return bool(fact.breach_seqs) and "breaches" not in fact.waived
    if figure == "rated":
        return fact.rating is not None
    raise ValueError(f"unknown figure {figure!r}; one of {', '.join(FIGURES)}")


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Figures:
    """The figures of one OPD (or of the regency), with the tracking ids behind each."""

    ids: Mapping[str, tuple[str, ...]]
    median_first_response_hours: float | None
    avg_rating: float | None

    def count(self, figure: str) -> int:
        return len(self.ids[figure])

    @property
    def on_time_pct(self) -> float | None:
        on_time = self.count("responded_on_time")
        return _pct(on_time, on_time + self.count(LATE))

    @property
    def returned_pct(self) -> float | None:
        return _pct(self.count("returned"), self.count("received"))

    def as_dict(self) -> dict[str, Any]:
        """The contract's fields, then this project's additions."""
        return {
            "received": self.count("received"),
            "responded": self.count("responded"),
            "responded_on_time": self.count("responded_on_time"),
            "on_time_pct": self.on_time_pct,
            "median_first_response_hours": self.median_first_response_hours,
            "overdue_open": self.count("overdue_open"),
            "returned": self.count("returned"),
            "avg_rating": self.avg_rating,
            "breaches": self.count("breaches"),
            "returned_pct": self.returned_pct,
            "late": self.count(LATE),
            "pending": self.count(PENDING),
            "withdrawn": self.count(WITHDRAWN),
            "rated": self.count("rated"),
        }


def figures(facts: Sequence[Fact], now: datetime) -> Figures:
    import statistics  # the scoreboard's only: not loaded by the consumer that folds facts

    ordered = sorted((f for f in facts if not f.merged_into), key=lambda f: (f.disposed_at, f.tracking_id, f.seq))
    ids = {fig: tuple(f.tracking_id for f in ordered if in_figure(f, fig, now)) for fig in FIGURES}
    hours = [f.first_response_hours for f in ordered if f.first_response_hours is not None]
    ratings = [f.rating for f in ordered if f.rating is not None]
    return Figures(
        ids=ids,
        median_first_response_hours=round(statistics.median(hours), 2) if hours else None,
        avg_rating=round(statistics.fmean(ratings), 2) if ratings else None,
    )


@dataclass(frozen=True)
class Scoreboard:
    period: str
    as_of: datetime
    rows: Mapping[str, Figures]  # by OPD code, sorted
    totals: Figures


def scoreboard(facts: Iterable[Fact], now: datetime, period: str | None = None) -> Scoreboard:
    """Figures per OPD and for the regency. Facts of another month than `period` are ignored
    (the store is keyed by month; this guards a caller that mixes them)."""
    chosen = [f for f in facts if (period is None or f.month == period) and not f.merged_into]
    by_opd: dict[str, list[Fact]] = {}
    for f in chosen:
        by_opd.setdefault(f.opd_code, []).append(f)
    rows = {code: figures(by_opd[code], now) for code in sorted(by_opd)}
    return Scoreboard(period=period or "", as_of=now, rows=rows, totals=figures(chosen, now))


def check_period(value: str) -> str:
    """`YYYY-MM` with a real month; ValueError otherwise."""
    if len(value) != 7 or value[4] != "-" or not (value[:4].isdigit() and value[5:].isdigit()):
        raise ValueError("periode harus berbentuk YYYY-MM")
    year, month = int(value[:4]), int(value[5:])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ValueError("periode harus bulan yang ada, YYYY-MM")
    return value


def previous_period(day: datetime) -> str:
    """The month (WIB) before the one `day` is in."""
    local = clock.to_wib(day)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def is_first_working_day_of_month(calendar: WorkingCalendar, day: datetime) -> bool:
    """True on the first working day (WIB) of `day`'s month: the monthly digest goes out then."""
    local = clock.to_wib(day).date()
    if not calendar.is_working_day(local):
        return False
    previous = calendar.previous_working_day(local)
    return (previous.year, previous.month) != (local.year, local.month)
