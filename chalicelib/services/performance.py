"""The monthly per-OPD performance record: the PerformanceQueue consumer re-folds a report's event
log into its disposition facts on each event; a month's scoreboard is read with one Query of
that month. The figures are chalicelib.domain.performance's (docs/PERFORMANCE.md); why re-fold
and how the facts stay right: docs/DESIGN.md, "Tables" (Performance).
"""
from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.config import settings
from chalicelib.data import month_close as closing
from chalicelib.data import performance as store
from chalicelib.data import reference, report_queries, reports
from chalicelib.domain import clock, privacy
from chalicelib.domain import month_close as mc
from chalicelib.domain import performance as perf
from chalicelib.domain.errors import Conflict
from chalicelib.observability import logger
from chalicelib.services import sla_fields

if TYPE_CHECKING:
    from chalicelib.data.models import Report, ReportEvent

CONSUMER = "performance"
# Events that can change a disposition fact. Anything else (submit, notes, reminders, sync
# receipts, escalations) changes no figure: skipped without reading anything.
FACT_ACTIONS = frozenset({"verify", "redispose", "accept", "respond", "return", "close", "reply",
                          "feedback", "auto_close", "archive", "sla_breach", "sp4n_archive", "sp4n_close",
                          "merge", "correct"})
TEMPLATE = "pimpinan_kinerja_bulanan"


# -- writing: events -> facts ---------------------------------------------------------------

def steps_of(events: list[ReportEvent]) -> list[perf.Step]:
    return [perf.Step(seq=int(e.seq), at=clock.parse(e.at), action=e.action, from_status=e.from_status,
                      to_status=e.to_status, data=dict(e.data or {})) for e in events]


def case_of(report: Report) -> perf.Case:
    return perf.Case(report_type=report.type, category=report.category, classification=report.classification)


def refresh(tracking_id: str) -> list[perf.Fact]:
    """Fold one report's event log into its facts and store them. Returns the facts.

    A fact of a final month is never written there again: it goes to the record of the next
    month that is not final, as a correction (chalicelib.domain.month_close)."""
    report = reports.get(tracking_id)
    if report is None:
        return []
    facts = perf.disposition_facts(tracking_id, steps_of(reports.events(tracking_id)),
                                   policy=sla_fields.policy(), calendar=sla_fields.calendar(), case=case_of(report))
    _, refused = store.save_unless_final(facts)
    states: dict[str, closing.MonthState] = {}
    for f in refused:
        state = states.setdefault(f.month, closing.state(f.month))
        _record_correction(f, state)
    return facts


def _record_correction(fact: perf.Fact, final: closing.MonthState) -> None:
    now = clock.now()
    waived = mc.waivers(o for o in closing.objections(fact.month) if o.get("tracking_id") == fact.tracking_id)
    frozen = store.stored(fact)
    before = mc.waive([frozen], waived)[0] if frozen is not None else None
    after = mc.waive([fact], waived)[0]
    finalised_at = clock.parse(str(final.data.get("finalised_at") or clock.iso(now)))
    changes = mc.changes(before, finalised_at, after, now)
    target = mc.correction_period(fact.month, lambda p: closing.state(p).final)
    store.save_correction(target, fact, changes, clock.iso(now))
    logger.info("performance correction", extra={"final_month": fact.month, "period": target,
                                                  "changes": changes})


def refuse_if_final(period: str) -> None:
    """A final month's record is never folded again."""
    if closing.state(period).final:
        raise Conflict(f"Rekap kinerja {period} sudah final dan tidak dapat dihitung ulang; peristiwa yang "
                       "terlambat dicatat sebagai koreksi pada bulan berikutnya.", code="month_final")


def refold(period: str) -> dict[str, Any]:
    """Fold again every report with a disposition in `period`, under today's calendar and policy.

    The facts are folded when a report's events arrive, with the calendar of that moment. A holiday
    override declared afterwards (a cuti bersama announced late) moves the deadlines of the days
    it covers, and the month's on-time record must follow before Tukin is decided on it: after
    such a change, operators run `python -m chalicelib.cli performance --period YYYY-MM --refold`.
    Reads the month's facts (one Query) and each report's events; idempotent. Refused (Conflict
    `month_final`) once the month is final."""
    refuse_if_final(period)
    reference.refresh("holiday")  # this run must not fold with a cached override list
    tracking_ids = sorted({f.tracking_id for f in store.month(period).facts})
    written = sum(len(refresh(tid)) for tid in tracking_ids)
    clear_cache()
    logger.info("performance refolded", extra={"period": period, "reports": len(tracking_ids), "facts": written})
    return {"period": period, "reports": len(tracking_ids), "facts": written}


def handle_event(event: Any, delivery: Any = None) -> dict[str, Any]:
    """One domain event (chalicelib.domain.events.DomainEvent) from the PerformanceQueue."""
    if event.tracking_id.startswith("digest#") or event.action not in FACT_ACTIONS:
        return {"skipped": True}
    # A move often comes with companions in one batch (a breach and its escalation, an action and
    # the sweep's next event): one fold of the log already covers every seq it read.
    folded: dict[str, int] = delivery.batch.setdefault(CONSUMER, {}) if delivery is not None else {}
    if folded.get(event.tracking_id, 0) >= event.seq:
        return {"skipped": True}
    facts = refresh(event.tracking_id)
    folded[event.tracking_id] = max((f.basis_seq for f in facts), default=event.seq)
    return {"facts": len(facts)}


def handle(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry for PerformanceQueue: Powertools' partial batch response."""
    from chalicelib.services import sqs_batches

    return sqs_batches.process(event, context, handle_event, CONSUMER)


# -- reading: the scoreboard ----------------------------------------------------------------

def _when(value: str | None) -> str | None:
    return clock.iso(clock.parse(value)) if value else None


def _names() -> dict[str, str]:
    return {code: str(item.get("name", code)) for code, item in reference.opds().items()}


@dataclass
class MonthRead:
    """A month's record as read: facts with the accepted objections applied, evaluated at `as_of`
    (a final month: the instant it was finalised, so its figures never move)."""

    period: str
    as_of: datetime
    state: closing.MonthState
    facts: list[perf.Fact]
    objections: list[dict[str, Any]]
    corrections: list[dict[str, Any]]
    items_read: int


def read_month(period: str, now: datetime | None = None) -> MonthRead:
    state = closing.state(period)
    as_of = now or clock.now()
    if state.final and state.data.get("finalised_at"):
        as_of = clock.parse(str(state.data["finalised_at"]))
    read = store.month(period)
    objections = closing.objections(period)
    facts = mc.waive(read.facts, mc.waivers(objections))
    return MonthRead(period, as_of, state, facts, objections, read.corrections, read.items_read)


def board(period: str, now: datetime | None = None) -> tuple[perf.Scoreboard, int]:
    """The month's scoreboard and the number of items DynamoDB read for it."""
    month = read_month(period, now)
    logger.info("performance scoreboard", extra={"period": period, "facts": len(month.facts),
                                                 "items_read": month.items_read})
    return perf.scoreboard(month.facts, month.as_of, period), month.items_read


def board_json(period: str, now: datetime | None = None, *, opd_code: str | None = None) -> dict[str, Any]:
    """CONTRACT.md's `GET /staff/performance` body, plus `breaches`, the extra figures and totals,
    the month's status (provisional|final), its objection window and objections, Diskominfotik's
    verification block and the corrections recorded here about earlier final months. With
    `opd_code` (an OPD's officer): its own row, objections and corrections only."""
    month = read_month(period, now)
    sb = perf.scoreboard(month.facts, month.as_of, period)
    names = _names()
    window = mc.objection_window(period, sla_fields.calendar())
    mine = (lambda code: code == opd_code) if opd_code else (lambda code: True)
    counts = {status: 0 for status in (mc.UNDECIDED, mc.ACCEPTED, mc.REJECTED)}
    for o in month.objections:
        if mine(o.get("opd_code")):
            counts[o["status"]] = counts.get(o["status"], 0) + 1
    return {
        "period": period,
        "status": month.state.status,
        "finalised_at": month.state.data.get("finalised_at"),
        "as_of": clock.iso(sb.as_of),
        "items": [{"opd_code": code, "opd_name": names.get(code, code), "status": month.state.status,
                   **fig.as_dict()} for code, fig in sb.rows.items() if mine(code)],
        "totals": sb.totals.as_dict(),
        "objection_window": window.as_dict(now or clock.now()),
        "objections": counts,
        "verification": mc.verification(month.facts),
        "corrections": [_correction_row(c, names) for c in month.corrections
                        if c["changes"] and mine(c["fact"].opd_code)],
    }


def _correction_row(c: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    f: perf.Fact = c["fact"]
    return {"final_month": c["final_month"], "opd_code": f.opd_code, "opd_name": names.get(f.opd_code, f.opd_code),
            "tracking_id": f.tracking_id, "disposition_seq": f.seq, "changes": c["changes"],
            "recorded_at": _when(c.get("recorded_at"))}


CSV_COLUMNS = ("opd_code", "opd_name", "received", "responded", "responded_on_time", "on_time_pct",
               "median_first_response_hours", "overdue_open", "returned", "returned_pct", "breaches",
               "avg_rating", "rated", "late", "pending", "withdrawn", "status")


def to_csv(body: dict[str, Any]) -> str:
    """RFC 4180 (CRLF, quoted as needed), one header row and one row per OPD, with a UTF-8 BOM so
    that Excel opens the Indonesian names right. Empty cell = no value (e.g. nothing decided)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in body["items"]:
        writer.writerow(["" if item.get(c) is None else item.get(c) for c in CSV_COLUMNS])
    return out.getvalue()


class UnknownOpd(LookupError):
    """No OPD with this code in the reference data."""


def drilldown(period: str, opd_code: str, figure: str, now: datetime | None = None,
              *, role: str = privacy.ADMIN, own_opd: bool = False) -> dict[str, Any]:
    """The reports behind one figure of one OPD: exactly those `scoreboard` counted (same rule,
    chalicelib.domain.performance.in_figure, same facts).

    A report `role` may not read (privacy.may_read: `rahasia` for pimpinan) still counts and keeps
    its timing row, but the row carries no tracking id (`withheld`): a count, not a pointer.
    `own_opd`: the caller is an officer of this OPD, who may list the reports forwarded to it
    (timing only). Accepted objections and a final month's frozen instant apply as on the
    scoreboard."""
    if figure not in perf.FIGURES:
        raise ValueError(figure)
    names = _names()
    if opd_code not in names:
        raise UnknownOpd(opd_code)
    state = closing.state(period)
    now = now or clock.now()
    if state.final and state.data.get("finalised_at"):
        now = clock.parse(str(state.data["finalised_at"]))
    waived = mc.waivers(o for o in closing.objections(period) if o.get("opd_code") == opd_code)
    facts = sorted(mc.waive(store.opd_month(period, opd_code).facts, waived),
                   key=lambda f: (f.disposed_at, f.tracking_id, f.seq))
    chosen = [f for f in facts if perf.in_figure(f, figure, now)]
    modes: dict[str, str | None] = {}
    if privacy.unreadable_privacies(role):
        modes = reports.privacy_modes(f.tracking_id for f in chosen)
    rows = []
    for f in chosen:
        # Other scoreboard readers are not the OPD; a report not found is not shown either.
        shown = role == privacy.ADMIN or own_opd or (f.tracking_id in modes and modes[f.tracking_id] is not None
                                           and privacy.may_read(role, modes[f.tracking_id], assigned=False))
        rows.append(_row(f, now) if shown else {**_row(f, now), "tracking_id": None, "withheld": True})
    return {"period": period, "opd_code": opd_code, "opd_name": names[opd_code], "figure": figure,
            "status": state.status, "as_of": clock.iso(now), "count": len(rows), "items": rows}


def _row(f: perf.Fact, now: datetime) -> dict[str, Any]:
    # Timing and outcome only: no title, no reporter. The staff report view shows the rest to
    # whoever may see it.
    return {
        "tracking_id": f.tracking_id,
        "withheld": False,
        "disposition_seq": f.seq,
        "disposed_at": _when(f.disposed_at),
        "accepted_at": _when(f.accepted_at),
        "response_due_at": _when(f.response_due_at),
        "first_response_at": _when(f.first_response_at),
        "first_response_hours": round(f.first_response_hours, 2) if f.first_response_hours is not None else None,
        "outcome": perf.outcome(f, now),
        "overdue": perf.is_overdue(f, now),
        "stage_due_at": _when(f.stage_due_at),
        "returned": f.returned,
        "ended_at": _when(f.ended_at),
        "ended_by": f.ended_by,
        "breach_seqs": list(f.breach_seqs),
        "rating": f.rating,
        "waived": list(f.waived),
    }


# -- public statistics ----------------------------------------------------------------------

STATS_TTL_SECONDS = 60.0
_stats_cache: dict[str, tuple[float, dict[str, Any]]] = {}


class NotAPeriod(ValueError):
    """A month /stats does not answer: before the service began, or not begun yet."""


def public_period(period: str, now: datetime | None = None) -> str:
    """`period` if /stats answers it: from the service's first month to the current one (WIB).
    Only these exist, so the per-period cache stays bounded and a flood of made-up months reads
    nothing."""
    first, current = settings().service_start, clock.month_wib(now or clock.now())
    if not first <= period <= current:
        raise NotAPeriod(f"periode harus antara {first} dan {current}")
    return period
PUBLIC_OPD_FIELDS = ("received", "responded", "responded_on_time", "on_time_pct", "median_first_response_hours")


def clear_cache() -> None:
    _stats_cache.clear()


def public_stats(period: str, now: datetime | None = None) -> dict[str, Any]:
    """Counts without personal data: reports submitted in the month (WIB) by current status,
    category, kecamatan and desa (Kemendagri code, for reports that name one), and the OPDs'
    response figures for the month's dispositions.

    A `rahasia` report is hidden from the public as a whole: it counts in the total and by
    status, but not by category, kecamatan or desa (a rare category in a small kecamatan can point at
    a person); those are counted in `not_broken_down`. Cached per period per container for a
    minute: the endpoint is public and each miss reads the whole month.
    """
    hit = _stats_cache.get(period)
    if now is None and hit and time.monotonic() - hit[0] < STATS_TTL_SECONDS:
        return hit[1]
    by_status: dict[str, int] = {}
    by_category: dict[str, int] = {}
    by_kecamatan: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    by_desa: dict[str, int] = {}
    hidden = total = 0
    pages = report_queries.month_summaries(period)
    for r in pages:
        total += 1
        by_status[r.status] = by_status.get(r.status, 0) + 1
        channel = r.source or "web"  # how it came in says nothing of who: every report counts
        by_channel[channel] = by_channel.get(channel, 0) + 1
        if r.privacy == "rahasia":
            hidden += 1
            continue
        cat = r.category or "tanpa_kategori"
        by_category[cat] = by_category.get(cat, 0) + 1
        by_kecamatan[r.kecamatan] = by_kecamatan.get(r.kecamatan, 0) + 1
        desa = r.location.desa if r.location else None
        if desa:
            by_desa[desa] = by_desa.get(desa, 0) + 1
    sb, facts_read = board(period, now)
    names = _names()
    body = {
        "period": period,
        "as_of": clock.iso(sb.as_of),
        "reports": {
            "total": total,
            "by_status": dict(sorted(by_status.items())),
            "by_category": dict(sorted(by_category.items())),
            "by_kecamatan": dict(sorted(by_kecamatan.items())),
            "by_channel": dict(sorted(by_channel.items())),
            "by_desa": dict(sorted(by_desa.items())),
            "not_broken_down": hidden,
        },
        "opd_response": [
            {"opd_code": code, "opd_name": names.get(code, code),
             **{k: v for k, v in fig.as_dict().items() if k in PUBLIC_OPD_FIELDS}}
            for code, fig in sb.rows.items()
        ],
    }
    logger.info("public stats",
                extra={"period": period, "items_read": pages.items_read + facts_read})
    if now is None:
        _stats_cache[period] = (time.monotonic(), body)
    return body


# -- the monthly digest to pimpinan ---------------------------------------------------------

_MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
           "Oktober", "November", "Desember")
# The digest lists every OPD (the email) but names only the weakest ones in the SMS-length summary.
DIGEST_SHORT_LIST = 3


@dataclass
class DigestResult:
    period: str | None
    recorded: bool
    reason: str
    data: dict[str, Any] | None = None


def _fmt(value: Any, suffix: str = "") -> str:
    return "-" if value is None else f"{value}{suffix}"


def digest_values(body: dict[str, Any]) -> dict[str, str]:
    """The template's placeholders (config/templates/pimpinan_kinerja_bulanan.json), in Indonesian.
    Computed here so the notifier only has to merge them: it needs no performance logic."""
    year, month = body["period"].split("-")
    totals = body["totals"]
    # Weakest first: the Bupati's question is who is not responding.
    ranked = sorted(body["items"], key=lambda i: (i["on_time_pct"] is None, i["on_time_pct"] or 0.0, i["opd_code"]))
    lines = [f"- {i['opd_name']} ({i['opd_code']}): {_fmt(i['on_time_pct'], '%')} tepat waktu, "
             f"{i['received']} diterima, {i['overdue_open']} lewat batas, {i['returned']} dikembalikan"
             for i in ranked]
    short = [f"{i['opd_code']} {_fmt(i['on_time_pct'], '%')}" for i in ranked if i["on_time_pct"] is not None]
    return {
        "bulan": f"{_MONTHS[int(month) - 1]} {year}",
        "per_tanggal": body["as_of"],
        "diterima": str(totals["received"]),
        "ditanggapi": str(totals["responded"]),
        "tepat_waktu_jumlah": str(totals["responded_on_time"]),
        "tepat_waktu": _fmt(totals["on_time_pct"], "%"),
        "median_jam": _fmt(totals["median_first_response_hours"]),
        "lewat_batas": str(totals["overdue_open"]),
        "dikembalikan": str(totals["returned"]),
        "pelanggaran": str(totals["breaches"]),
        "rating": _fmt(totals["avg_rating"]),
        "rincian": "\n".join(lines) or "- (tidak ada laporan yang diteruskan)",
        "rincian_singkat": ", ".join(short[:DIGEST_SHORT_LIST]) or "-",
    }


def monthly_digest(now: datetime | None = None, *, period: str | None = None) -> DigestResult:
    """On the first working day of a month (WIB, with the admins' holiday overrides), record the
    previous month's scoreboard as one `performance_digest` event for pimpinan, exactly once
    (idempotency key `digest#monthly#YYYY-MM`). Any other day it does nothing. Given a `period`
    (the CLI, for a month whose run was missed) it records that month on any day, still once."""
    now = now or clock.now()
    if period is None:
        if not perf.is_first_working_day_of_month(sla_fields.calendar(), now):
            return DigestResult(None, False, "not the first working day of the month")
        period = perf.previous_period(now)
    body = board_json(period, now)
    data = {
        "period": period,
        "audience": ["pimpinan"],
        "template": TEMPLATE,
        # Figures only (no tracking ids: the email is not the place to trace; the drill-down is).
        "totals": body["totals"],
        "items": body["items"],
        "values": digest_values(body),
        "generated_at": body["as_of"],
    }
    recorded = store.record_digest(period, now, data)
    logger.info("performance digest", extra={"period": period, "recorded": recorded})
    return DigestResult(period, recorded, "recorded" if recorded else "already recorded", data)
