"""SLA stages, deadlines and the per-report SLA clock; the numbers live in config/sla.json.

One stage per open status (`stage_for`), a deadline per stage (`StagePolicy`), and `SlaClock`, the
reminders and deadline of one report's stage on the working calendar. The stages and the rules of
counting (start, pause and resume, reminders): docs/DOMAIN.md ("Stages, and how they are counted").
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from chalicelib.domain.calendar import WorkingCalendar
from chalicelib.domain.clock import to_wib
from chalicelib.domain.workflow import Status

VERIFIKASI = "verifikasi"
RESPON_OPD = "respon_opd"
TINDAK_LANJUT = "tindak_lanjut"
KONFIRMASI = "konfirmasi"
KELENGKAPAN = "kelengkapan"
STAGES: tuple[str, ...] = (VERIFIKASI, RESPON_OPD, TINDAK_LANJUT, KONFIRMASI, KELENGKAPAN)
# Stages where staff owe the next step: missing the deadline is a breach.
STAFF_STAGES: frozenset[str] = frozenset({VERIFIKASI, RESPON_OPD, TINDAK_LANJUT})
# Stages where the reporter owes the next step: the staff clock is paused, the system acts at expiry.
REPORTER_STAGES: frozenset[str] = frozenset({KONFIRMASI, KELENGKAPAN})

Unit = Literal["working_days", "calendar_days"]
UNITS: tuple[str, ...] = ("working_days", "calendar_days")
DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "config" / "sla.json"
_NO_CASES: Mapping[str, str] = MappingProxyType({})  # a stage whose case does not vary

_STAGE_OF_STATUS: Mapping[Status, str | None] = MappingProxyType({
    Status.DIAJUKAN: VERIFIKASI,
    Status.DIKEMBALIKAN: VERIFIKASI,  # returned by an OPD: the admin must re-route it
    Status.DIDISPOSISIKAN: RESPON_OPD,
    Status.DIPROSES: TINDAK_LANJUT,
    Status.DITINDAKLANJUTI: KONFIRMASI,
    Status.PERLU_KELENGKAPAN: KELENGKAPAN,
    Status.DITOLAK: None,
    Status.SELESAI: None,
})


def stage_for(status: str) -> str | None:
    """The SLA stage of a status; None for closed reports. Unknown status: ValueError."""
    return _STAGE_OF_STATUS[Status(status)]


# -- policy ---------------------------------------------------------------------------------

class SlaConfigError(ValueError):
    """config/sla.json (or the dict given) does not describe a usable policy."""


class Rule(NamedTuple):
    amount: int
    unit: Unit
    source: str = ""

    def due(self, calendar: WorkingCalendar, start: datetime) -> datetime:
        if self.unit == "working_days":
            return calendar.add_working_days(start, self.amount)
        return calendar.add_calendar_days(start, self.amount)


class StagePolicy(NamedTuple):
    """The rules of one stage. Simple stages have one case, named "default".

    The case of a report is chosen by, in order: its classification (`by_classification`, e.g.
    berkadar_pengawasan), its type (`by_type`, e.g. permintaan_informasi), its category (one
    category list per case), else `default_case`. Classification first because it is the admin's
    explicit judgement; type before category because an information request is answered in the
    short time whatever its subject.
    """

    name: str
    cases: Mapping[str, Rule]
    default_case: str
    reminder: bool = True
    by_classification: Mapping[str, str] = _NO_CASES
    by_type: Mapping[str, str] = _NO_CASES
    by_category: Mapping[str, str] = _NO_CASES

    def case_for(self, report_type: str | None = None, category: str | None = None,
                 classification: str | None = None) -> str:
        if classification is not None and classification in self.by_classification:
            return self.by_classification[classification]
        if report_type is not None and report_type in self.by_type:
            return self.by_type[report_type]
        if category is not None and category in self.by_category:
            return self.by_category[category]
        return self.default_case

    def rule_for(self, report_type: str | None = None, category: str | None = None,
                 classification: str | None = None) -> Rule:
        return self.cases[self.case_for(report_type, category, classification)]


class SlaPolicy(NamedTuple):
    stages: Mapping[str, StagePolicy]

    def stage(self, name: str) -> StagePolicy:
        try:
            return self.stages[name]
        except KeyError:
            raise ValueError(f"unknown SLA stage {name!r}") from None

    def rule_for(self, stage: str, report_type: str | None = None, category: str | None = None,
                 classification: str | None = None) -> Rule:
        return self.stage(stage).rule_for(report_type, category, classification)

    def listed_categories(self) -> frozenset[str]:
        """Every category code the policy names (to cross-check against the reference data)."""
        return frozenset(c for s in self.stages.values() for c in s.by_category)


def _check_keys(where: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    # Unknown keys are typos that would silently fall back to a default: refuse them.
    unknown = {k for k in data if not k.startswith("_")} - allowed
    if unknown:
        raise SlaConfigError(f"{where}: unknown keys {sorted(unknown)}")


def _mapping(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SlaConfigError(f"{where}: expected an object")
    return value


def _rule(where: str, data: Any) -> Rule:
    data = _mapping(where, data)
    _check_keys(where, data, {"amount", "unit", "source", "note"})
    amount = data.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        raise SlaConfigError(f"{where}.amount: a whole number of days, at least 1")
    unit = data.get("unit")
    if unit == "working_days" or unit == "calendar_days":
        source = data.get("source", "")
        return Rule(amount=amount, unit=unit, source=str(source))
    raise SlaConfigError(f"{where}.unit: one of {list(UNITS)}, got {unit!r}")


def _case_map(where: str, data: Any, cases: Mapping[str, Rule]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, case in _mapping(where, data).items():
        if key.startswith("_"):
            continue
        if case not in cases:
            raise SlaConfigError(f"{where}.{key}: unknown case {case!r}")
        out[key] = case
    return out


def _stage(name: str, data: Any) -> StagePolicy:
    where = f"stages.{name}"
    data = _mapping(where, data)
    reminder = data.get("reminder", True)
    if not isinstance(reminder, bool):
        raise SlaConfigError(f"{where}.reminder: true or false")
    if "cases" not in data:
        _check_keys(where, data, {"amount", "unit", "source", "note", "reminder"})
        rule = _rule(where, {k: v for k, v in data.items() if k != "reminder"})
        return StagePolicy(name=name, cases=MappingProxyType({"default": rule}),
                           default_case="default", reminder=reminder)
    _check_keys(where, data, {"cases", "default_case", "by_classification", "by_type",
                              "categories", "source", "note", "reminder"})
    cases = {k: _rule(f"{where}.cases.{k}", v)
             for k, v in _mapping(f"{where}.cases", data["cases"]).items() if not k.startswith("_")}
    if not cases:
        raise SlaConfigError(f"{where}.cases: at least one case")
    default_case = data.get("default_case")
    if default_case not in cases:
        raise SlaConfigError(f"{where}.default_case: one of {sorted(cases)}, got {default_case!r}")
    by_category: dict[str, str] = {}
    for case, codes in _mapping(f"{where}.categories", data.get("categories", {})).items():
        if case.startswith("_"):
            continue
        if case not in cases:
            raise SlaConfigError(f"{where}.categories.{case}: unknown case")
        if not isinstance(codes, list) or not all(isinstance(c, str) and c for c in codes):
            raise SlaConfigError(f"{where}.categories.{case}: a list of category codes")
        for code in codes:
            # One category in two lists would make the deadline depend on file order.
            if code in by_category and by_category[code] != case:
                raise SlaConfigError(f"{where}.categories: {code!r} is in {by_category[code]!r} and {case!r}")
            by_category[code] = case
    return StagePolicy(
        name=name,
        cases=MappingProxyType(cases),
        default_case=str(default_case),
        reminder=reminder,
        by_classification=MappingProxyType(
            _case_map(f"{where}.by_classification", data.get("by_classification", {}), cases)),
        by_type=MappingProxyType(_case_map(f"{where}.by_type", data.get("by_type", {}), cases)),
        by_category=MappingProxyType(by_category),
    )


def policy_from_dict(data: Mapping[str, Any]) -> SlaPolicy:
    """Validate plain data (the shape of config/sla.json) into a policy."""
    data = _mapping("policy", data)
    _check_keys("policy", data, {"version", "stages"})
    if data.get("version", 1) != 1:
        raise SlaConfigError(f"policy.version: only version 1 is known, got {data.get('version')!r}")
    stages_data = _mapping("stages", data.get("stages"))
    names = {k for k in stages_data if not k.startswith("_")}
    if names != set(STAGES):
        missing, extra = set(STAGES) - names, names - set(STAGES)
        raise SlaConfigError(f"stages: missing {sorted(missing)}, unknown {sorted(extra)}")
    return SlaPolicy(stages=MappingProxyType({n: _stage(n, stages_data[n]) for n in STAGES}))


def load_policy(path: str | Path | None = None) -> SlaPolicy:
    """Read and validate the policy file (default: chalicelib/config/sla.json)."""
    target = Path(path) if path is not None else DEFAULT_POLICY_PATH
    with target.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return policy_from_dict(data)


# -- deadlines ------------------------------------------------------------------------------

def deadline(policy: SlaPolicy, calendar: WorkingCalendar, stage: str, start: datetime,
             report_type: str | None = None, category: str | None = None, *,
             classification: str | None = None) -> datetime:
    """The instant the stage's time runs out, for a stage that started at `start`."""
    return policy.rule_for(stage, report_type, category, classification).due(calendar, start)


def reminder_at(calendar: WorkingCalendar, due: datetime) -> datetime:
    """07:30 WIB (office opening) of the working day before the deadline's day."""
    return calendar.opening(calendar.previous_working_day(to_wib(due).date()))


# -- the clock of one report ----------------------------------------------------------------

class CheckKind(StrEnum):
    """What the SLA sweep does at a check; the values are the event actions it writes."""

    REMINDER = "sla_reminder"
    BREACH = "sla_breach"
    AUTO_CLOSE = "auto_close"
    ARCHIVE = "archive"


_EXPIRY: Mapping[str, CheckKind] = MappingProxyType({
    VERIFIKASI: CheckKind.BREACH,
    RESPON_OPD: CheckKind.BREACH,
    TINDAK_LANJUT: CheckKind.BREACH,
    KONFIRMASI: CheckKind.AUTO_CLOSE,
    KELENGKAPAN: CheckKind.ARCHIVE,
})


class Check(NamedTuple):
    kind: CheckKind
    at: datetime


class SlaClock(NamedTuple):
    """The SLA state of one report in its current status, and what the sweep must do when.

    Use with the sweep (which stores `sweep_at` on the report):
    1. When a move restarts the SLA (workflow.Move.restarts_sla), build `SlaClock.start(...)` at
       the event's instant and store due_at, the stage start and
       sweep_at = `next_check(after=now).at` (no check: remove sweep_at).
    2. The sweep, at `now`, for each report with sweep_at <= now: rebuild the clock (`start` with
       the stored stage start, or `restore` with the stored due_at), do
       `due_checks(since=stored sweep_at, now=now)`, then store `next_check(after=now)`.
       AUTO_CLOSE/ARCHIVE are workflow moves by role `sistem`, so step 1 follows.
    Rebuilding with `start` picks up a holiday declared after the stage began; store the new
    due_at when it differs.
    """

    status: Status
    stage: str | None
    started_at: datetime | None
    due_at: datetime | None
    reminder_at: datetime | None

    @classmethod
    def start(cls, policy: SlaPolicy, calendar: WorkingCalendar, status: str, started_at: datetime,
              report_type: str | None = None, category: str | None = None, *,
              classification: str | None = None) -> SlaClock:
        """The clock of a report that entered `status` at `started_at`."""
        stage = stage_for(status)
        if stage is None:
            return cls(Status(status), None, None, None, None)
        due = deadline(policy, calendar, stage, started_at, report_type, category,
                       classification=classification)
        remind = reminder_at(calendar, due) if policy.stage(stage).reminder else None
        return cls._build(Status(status), stage, started_at, due, remind)

    @classmethod
    def restore(cls, calendar: WorkingCalendar, status: str, due_at: datetime,
                started_at: datetime | None = None, *, reminder: bool = True) -> SlaClock:
        """Rebuild from a stored deadline (no policy needed: the deadline is already fixed)."""
        stage = stage_for(status)
        if stage is None:
            return cls(Status(status), None, None, None, None)
        remind = reminder_at(calendar, due_at) if reminder else None
        return cls._build(Status(status), stage, started_at, due_at, remind)

    @classmethod
    def _build(cls, status: Status, stage: str, started_at: datetime | None, due: datetime,
               remind: datetime | None) -> SlaClock:
        # A reminder at or before the stage's start would go out at once: it says nothing.
        if remind is not None and started_at is not None and remind <= started_at:
            remind = None
        return cls(status, stage, started_at, due, remind)

    @property
    def waits_on(self) -> Literal["staff", "pelapor"] | None:
        if self.stage is None:
            return None
        return "pelapor" if self.stage in REPORTER_STAGES else "staff"

    @property
    def paused(self) -> bool:
        """True while the report waits on the reporter: no staff deadline runs."""
        return self.stage in REPORTER_STAGES

    @property
    def expiry(self) -> CheckKind | None:
        """What happens at the deadline: a staff breach, or the system's auto-close/archive."""
        return _EXPIRY[self.stage] if self.stage is not None else None

    def checks(self) -> tuple[Check, ...]:
        """Every check of this stage, in time order."""
        if self.stage is None or self.due_at is None:
            return ()
        out: list[Check] = []
        if self.reminder_at is not None:
            out.append(Check(CheckKind.REMINDER, self.reminder_at))
        out.append(Check(_EXPIRY[self.stage], self.due_at))
        return tuple(out)

    def next_check(self, after: datetime | None = None) -> Check | None:
        """The first check strictly after `after` (the first of all when None)."""
        for check in self.checks():
            if after is None or check.at > after:
                return check
        return None

    def due_checks(self, since: datetime | None, now: datetime) -> tuple[Check, ...]:
        """Checks with since <= at <= now: what a sweep running at `now` must do.

        A reminder overtaken by its own deadline (the sweep ran late) is dropped: the breach or
        the auto-close says more than a reminder could.
        """
        todo = [c for c in self.checks() if (since is None or c.at >= since) and c.at <= now]
        if len(todo) > 1:
            todo = [c for c in todo if c.kind is not CheckKind.REMINDER]
        return tuple(todo)

    def is_breached(self, now: datetime) -> bool:
        """A staff stage past its deadline (reporter stages never breach: they expire)."""
        return self.stage in STAFF_STAGES and self.due_at is not None and now > self.due_at


# -- pausing an OPD's clock while the reporter owes information --------------------------------

class PausedClock(NamedTuple):
    """An OPD stage stopped by its own request for information (see the module's rules)."""

    stage: str
    due_at: datetime          # the deadline in force when it stopped
    remaining: int            # working days left after the pause day (0: the deadline's own day)
    breached: bool            # already past the deadline when it stopped

    @classmethod
    def stop(cls, calendar: WorkingCalendar, stage: str, due_at: datetime, at: datetime) -> PausedClock:
        if stage not in STAFF_STAGES:
            raise ValueError(f"only a staff stage pauses, not {stage!r}")
        if at > due_at:
            return cls(stage, due_at, 0, True)
        return cls(stage, due_at, max(calendar.working_days_between(at, due_at), 0), False)

    def resumed_due(self, calendar: WorkingCalendar, at: datetime) -> datetime:
        """The deadline of the stage resumed at `at`: the old one when it had already passed,
        else the same number of working days counted from `at`'s day."""
        if self.breached:
            return self.due_at
        if self.remaining >= 1:
            return calendar.add_working_days(at, self.remaining)
        day = to_wib(at).date()
        if calendar.is_working_day(day):
            return calendar.end_of_day(day)
        return calendar.add_working_days(at, 1)

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "due_at": self.due_at.isoformat(), "remaining": self.remaining,
                "breached": self.breached}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PausedClock:
        return cls(str(raw["stage"]), datetime.fromisoformat(str(raw["due_at"])), int(raw["remaining"]),
                   bool(raw["breached"]))
