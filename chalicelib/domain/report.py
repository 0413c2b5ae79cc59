"""The report entity: what a move does to a report, and the event it leaves.

`Report` holds the fields a move reads and writes; `Report.apply` checks the move against the
state machine (chalicelib.domain.workflow), changes the report and returns the `Event` it
produced. Storage maps it to and from the table (chalicelib/data/reports.py); the SLA clock is
handed in as `SlaRules`, bound by the service to the policy and the regency's calendar. The
rules themselves are in docs/DOMAIN.md ("The workflow, move by move").
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain import clock
from chalicelib.domain import workflow as wf

# What ends the OPD's wait for a first response: a public word to the reporter (an answer, a
# progress update, or the OPD's own request for information), not an `accept`.
FIRST_RESPONSES = frozenset({"respond", "progress", "request_info"})


@dataclass(frozen=True)
class Actor:
    """Who moves a report, as the event records it."""

    actor: str            # pelapor | admin | opd | sistem (the timeline's `actor`)
    role: str             # the workflow role
    actor_id: str | None = None   # staff `sub`; never shown to citizens
    opd_code: str | None = None


@dataclass
class Event:
    """What a move left on the report's timeline; storage numbers and stores it."""

    at: datetime
    actor: str
    role: str
    action: str
    from_status: str | None
    to_status: str
    public: bool
    message: str | None = None
    actor_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def bookkeeping(cls, status: str, action: str, at: datetime, data: dict[str, Any],
                    message: str | None = None) -> Event:
        """The system's internal record on a report (a sync, an SLA check, an erasure): no status
        change, not shown to the reporter, so an officer's If-Match still holds."""
        return cls(at=at, actor="sistem", role="sistem", action=action, from_status=status, to_status=status,
                   public=False, message=message, data=data)


class SlaRules(Protocol):
    """The SLA fields a move sets, bound to the policy and calendar (chalicelib/services/sla_fields.py)."""

    def stage_fields(self, tracking_id: str, report_type: str, category: str | None, status: str,
                     start: datetime, now: datetime, *, classification: str | None = None) -> dict[str, Any]: ...

    def cleared_fields(self) -> dict[str, Any]: ...

    def pause(self, report: Any, now: datetime) -> dict[str, Any]: ...

    def resumed_fields(self, tracking_id: str, status: str, paused: dict[str, Any],
                       now: datetime) -> dict[str, Any]: ...

    def replanned_fields(self, report: Any, now: datetime) -> dict[str, Any]: ...


def corrections(fields: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """What `fields` change of `current` type, category, kecamatan and desa: {field: {from, to}}.
    A new kecamatan without a desa clears the old desa, which lies in the old kecamatan."""
    wanted = {f: fields[f] for f in wf.CORRECTABLE_FIELDS if f in fields}
    if "kecamatan" in wanted and wanted["kecamatan"] != current.get("kecamatan") and "desa" not in wanted:
        wanted["desa"] = None
    return {f: {"from": current.get(f), "to": v} for f, v in wanted.items() if v != current.get(f)}


@dataclass
class Report:
    """A report as a move sees it. Fields and their meaning: docs/DESIGN.md ("Tables")."""

    tracking_id: str
    status: str
    type: str
    kecamatan: str
    privacy: str
    created_at: str
    updated_at: str
    category: str | None = None
    classification: str | None = None
    desa: str | None = None
    opd_code: str | None = None
    status_created: str | None = None
    disposed_at: str | None = None
    first_response_at: str | None = None
    planned_completion: str | None = None
    assigned_to: str | None = None
    assigned_at: str | None = None
    returned_by: list[str] = field(default_factory=list)
    rating: int | None = None
    merged_into: str | None = None
    info_request: dict[str, Any] | None = None
    due_at: str | None = None
    sla_stage: str | None = None
    sla_stage_started_at: str | None = None
    sla_breached: bool = False
    sla_state: dict[str, Any] | None = None
    sweep_at: str | None = None
    sweep_shard: str | None = None

    def corrections(self, fields: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        return corrections(fields, {"type": self.type, "category": self.category,
                                    "kecamatan": self.kecamatan, "desa": self.desa})

    def apply(self, action: str, who: Actor, fields: Mapping[str, Any], now: datetime, sla: SlaRules) -> Event:
        """Apply `action` by `who` with its checked `fields`; return its event. Raises the
        workflow's WorkflowError when the table does not allow the move, changing nothing."""
        asked_by = (self.info_request or {}).get("asked_by") if self.status == wf.Status.PERLU_KELENGKAPAN else None
        wf.check_merged(action, who.role, self.merged_into)
        move = wf.transition(self.status, action, who.role, resolved=fields.get("resolved"), asked_by=asked_by)
        message = wf.timeline_message(move, fields) if move.public else fields.get("message")
        event = Event(at=now, actor=who.actor, actor_id=who.actor_id, role=who.role, action=move.action,
                      from_status=move.from_status.value, to_status=move.to_status.value, message=message,
                      public=move.public, data=self._event_data(move, who, fields))
        changes = self.corrections(fields) if action in ("verify", "correct") else {}
        self._correct(changes)
        self._hand_over(action, who, fields, now)
        self._move_clock(move, who, changes, event, sla, now)
        self.updated_at = clock.iso_utc(now)
        return event

    def _correct(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        for name, change in changes.items():
            setattr(self, name, change["to"])
        if "type" in changes and self.type != "pengaduan":
            self.classification = None  # only a pengaduan is classified

    def _hand_over(self, action: str, who: Actor, fields: Mapping[str, Any], now: datetime) -> None:
        """Who holds the report, who works it, and what the reporter was told, after `action`."""
        if action in ("verify", "redispose"):
            self.opd_code = fields["opd_code"]
            self.disposed_at = clock.iso_utc(now)
            self.first_response_at = None
            self.planned_completion = None  # a new OPD plans for itself
            self.assigned_to = self.assigned_at = None  # and assigns for itself
            if action == "verify":
                for name in ("classification", "category", "privacy"):
                    if fields.get(name):
                        setattr(self, name, fields[name])
        elif action == "return":
            if self.opd_code and self.opd_code not in self.returned_by:
                self.returned_by = [*self.returned_by, self.opd_code]
            self.opd_code = None
            self.assigned_to = self.assigned_at = None
        elif action in FIRST_RESPONSES and (action != "request_info" or who.role == wf.Role.OPD):
            if not self.first_response_at:
                self.first_response_at = clock.iso_utc(now)
        elif action == "feedback" and fields.get("rating") is not None:
            self.rating = int(fields["rating"])
        elif action == "assign":
            self.assigned_to = fields["officer"]
            self.assigned_at = clock.iso_utc(now)
        if action == "progress" and fields.get("planned_completion"):
            self.planned_completion = fields["planned_completion"]
        if action == "merge":
            # The primary is worked on: the duplicate leaves its OPD's inbox.
            self.merged_into = fields["primary"]
            self.opd_code = None

    def _move_clock(self, move: wf.Move, who: Actor, changes: Mapping[str, Any], event: Event, sla: SlaRules,
                    now: datetime) -> None:
        """The status, the index key of the OPD's list and the SLA stage after `move`."""
        action = move.action
        if action == "merge":
            self._set(sla.cleared_fields())  # and the SLA sweep
        resumed: dict[str, Any] | None = None
        if move.from_status == wf.Status.PERLU_KELENGKAPAN and move.changes_status:
            if move.to_status == wf.Status.DIPROSES:
                resumed = (self.info_request or {}).get("paused")
            self.info_request = None
        if action == "request_info":
            self.info_request = {"asked_by": who.role, "opd_code": self.opd_code, "asked_at": clock.iso_utc(now)}
            if who.role == wf.Role.OPD:
                self.info_request["paused"] = sla.pause(self, now)

        self.status = move.to_status.value
        self.status_created = f"{self.status}#{self.created_at}" if self.opd_code else None
        if resumed:
            self._set(sla.resumed_fields(self.tracking_id, self.status, resumed, now))
        elif move.restarts_sla and (move.changes_status or action == "redispose"):
            self._set(sla.stage_fields(self.tracking_id, self.type, self.category, self.status, now, now,
                                       classification=self.classification))
        elif action == "correct" and ({"type", "category"} & set(changes)):
            replanned = sla.replanned_fields(self, now)
            if replanned:
                event.data = {**event.data, "due_from": self.due_at, "due_to": replanned["due_at"]}
            self._set(replanned)

    def _set(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    def _event_data(self, move: wf.Move, who: Actor, fields: Mapping[str, Any]) -> dict[str, Any]:
        """What the event's `data` records: codes and internal texts, never personal data."""
        action = move.action
        data: dict[str, Any] = {}
        if who.opd_code:
            data["actor_opd"] = who.opd_code
        if action in ("verify", "correct") and (changes := self.corrections(fields)):
            data["corrections"] = changes
        if action == "verify":
            data.update(opd_code=fields["opd_code"], classification=fields.get("classification"),
                        category=fields.get("category"), note=fields.get("note"))
            if fields.get("privacy") and fields["privacy"] != self.privacy:
                data.update(privacy=fields["privacy"], privacy_from=self.privacy)
        elif action == "correct":
            data.update(opd_code=self.opd_code, note=fields.get("note"))
        elif action == "assign":
            data.update(opd_code=self.opd_code, officer=fields["officer"], from_officer=self.assigned_to,
                        note=fields.get("note"))
        elif action == "redispose":
            data.update(opd_code=fields["opd_code"], from_opd=self.opd_code, note=fields.get("note"))
        elif action == "return":
            data.update(opd_code=self.opd_code, reason_code=fields["reason_code"], reason=fields["reason"])
        elif action == "reject":
            data.update(reason_code=fields.get("reason_code"), reason=fields["reason"])
        elif action in ("respond", "reply"):
            data.update(opd_code=self.opd_code, attachments=fields.get("attachments"))
        elif action == "progress":
            data.update(opd_code=self.opd_code, attachments=fields.get("attachments"),
                        planned_completion=fields.get("planned_completion"))
        elif action == "request_info":
            data.update(asked_by=who.role, opd_code=self.opd_code)
        elif action == "feedback":
            data.update(resolved=fields["resolved"], rating=fields.get("rating"), opd_code=self.opd_code)
        elif action in ("note", "accept", "close", "auto_close", "archive"):
            data.update(opd_code=self.opd_code)
        elif action == "merge":
            data.update(primary=fields["primary"], opd_code=self.opd_code, note=fields.get("note"))
        return {k: v for k, v in data.items() if v is not None}
