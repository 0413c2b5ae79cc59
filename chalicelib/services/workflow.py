"""Moving a report: staff actions, the reporter's replies and feedback, SP4N-LAPOR!'s moves and the
system's (auto-close, archive).

Checks what needs the stored data (visibility, the fields against the reference data, officers,
attachments, If-Match), lets the report entity (chalicelib/domain/report.py) apply the move, and
saves it with `reports.update`. The rules: docs/DOMAIN.md ("The workflow, move by move"); the
write and its retry rule: docs/DESIGN.md ("Changing a report").
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.auth import Principal
from chalicelib.data import officers, reference, reports
from chalicelib.domain import clock, privacy
from chalicelib.domain import report as report_entity
from chalicelib.domain import workflow as wf
from chalicelib.domain.errors import (
    DomainError,
    VersionConflict,
    forbidden,
    invalid_transition,
    not_found,
    validation_error,
    version_conflict,
)
from chalicelib.domain.report import Actor, Event
from chalicelib.services import attachment_claims, sla_fields, views

if TYPE_CHECKING:
    from chalicelib.data.models import Report, ReportEvent

# Attempts of one move when only bookkeeping raced it (see `act`).
_RETRIES = 3


def staff_actor(principal: Principal, action: str | None = None) -> Actor:
    """The actor of `action`: an opd_admin acts as `opd` except in an action only its role
    takes (assign), whose event then records role `opd_admin`."""
    role = principal.role
    spec = wf.ACTIONS.get(action or "")
    if principal.opd_admin and spec is not None and wf.Role.OPD_ADMIN in spec.roles:
        role = wf.Role.OPD_ADMIN.value
    return Actor(principal.role, role, principal.sub, principal.opd_code)


REPORTER = Actor("pelapor", "pelapor")
SYSTEM = Actor("sistem", "sistem")
# LAPOR!'s admins: a workflow role of their own; on the timeline a system move (the contract's
# actors are pelapor|admin|opd|sistem).
SP4N_ADMIN = Actor("sistem", "sp4n", actor_id="sp4n-lapor")


# -- who sees what ------------------------------------------------------------------------------

def visible_to(principal: Principal, report: Report) -> bool:
    """chalicelib.domain.privacy.may_read: an OPD sees only reports forwarded to it, pimpinan no
    `rahasia` report, admins every report."""
    return privacy.may_read(principal.role, report.privacy, assigned=assigned_to(principal, report))


def assigned_to(principal: Principal, report: Report) -> bool:
    """Whether the report is forwarded to the caller's OPD (not: to the caller as an officer)."""
    return principal.role == "opd" and bool(report.opd_code) and report.opd_code == principal.opd_code


def load_for_staff(tracking_id: str, principal: Principal) -> Report:
    report = reports.get(tracking_id)
    if report is None or not visible_to(principal, report):
        raise not_found("Tidak ada laporan dengan nomor ini.")
    return report


# -- checking the fields of an action -----------------------------------------------------------

def _check_fields(action: str, fields: Mapping[str, Any], report: Report) -> dict[str, Any]:
    """The action's fields, cleaned; a 400 naming each missing, unexpected or bad field."""
    spec = wf.ACTIONS[action]
    allowed = set(spec.required) | set(spec.optional)
    problems: list[dict[str, Any]] = []
    given = {k: v for k, v in fields.items() if v is not None}
    for name in sorted(set(given) - allowed):
        problems.append({"field": name, "type": "extra_forbidden", "message": f"aksi {action} tidak menerima {name}"})
    clean: dict[str, Any] = {}
    for name in spec.required + spec.optional:
        value = given.get(name)
        if isinstance(value, str):
            value = value.strip()
            if not value:
                value = None
        if value is None:
            if name in spec.required:
                problems.append({"field": name, "type": "missing", "message": f"aksi {action} memerlukan {name}"})
            continue
        clean[name] = value
    # The API's request models hold the same rules (built from wf.FIELDS); moves from the other
    # channels (chat, SMS, LAPOR!) meet them here.
    for name, value in clean.items():
        rule = wf.FIELDS[name]
        if rule.kind == "text" and (not isinstance(value, str) or len(value) > (rule.max_length or 0)):
            problems.append({"field": name, "type": "string_too_long",
                             "message": f"maksimal {rule.max_length} karakter"})
        elif rule.kind == "choice" and value not in rule.choices:
            problems.append({"field": name, "type": "enum", "message": f"salah satu dari {', '.join(rule.choices)}"})
    if "opd_code" in clean and clean["opd_code"] not in reference.opds():
        problems.append({"field": "opd_code", "type": "unknown", "message": "OPD tidak dikenal (lihat GET /opds)"})
    if "category" in clean and clean["category"] not in reference.categories():
        problems.append({"field": "category", "type": "unknown",
                         "message": "kategori tidak dikenal (lihat GET /categories)"})
    if "privacy" in clean and not privacy.is_raise(report.privacy, str(clean["privacy"])):
        problems.append({"field": "privacy", "type": "privacy_lowered",
                         "message": "kerahasiaan hanya dapat dinaikkan (publik -> anonim -> rahasia); "
                                    "menurunkannya hanya atas permintaan pelapor"})
    if clean.get("classification") in wf.CLASSIFICATIONS and clean.get("type", report.type) != "pengaduan":
        problems.append({"field": "classification", "type": "not_applicable",
                         "message": "hanya pengaduan yang diklasifikasikan (berkadar pengawasan atau tidak)"})
    if "attachments" in clean:
        atts = clean["attachments"]
        most = wf.FIELDS["attachments"].max_length or 0
        if not isinstance(atts, list) or len(atts) > most or not all(isinstance(a, str) for a in atts):
            problems.append({"field": "attachments", "type": "list", "message": f"maksimal {most} lampiran"})
        else:
            problems.extend(attachment_claims.shape_problems(atts))  # the rest: claimed in the write
    if "planned_completion" in clean:
        problems.extend(_planned_completion_problems(clean))
    if "rating" in clean and (isinstance(clean["rating"], bool) or clean["rating"] not in (1, 2, 3, 4, 5)):
        problems.append({"field": "rating", "type": "range", "message": "1 sampai 5"})
    if "resolved" in clean and not isinstance(clean["resolved"], bool):
        problems.append({"field": "resolved", "type": "bool", "message": "true atau false"})
    if action == "redispose" and clean.get("opd_code") and clean["opd_code"] == report.opd_code:
        problems.append({"field": "opd_code", "type": "unchanged", "message": "laporan sudah berada di OPD ini"})
    if "officer" in clean:
        problems.extend(_officer_problems(clean, report))
    problems.extend(_correction_problems(action, clean, report))
    if problems:
        raise validation_error(problems)
    return clean


def _officer_problems(clean: dict[str, Any], report: Report) -> list[dict[str, Any]]:
    """`officer`: the user id of an officer of the OPD that holds the report."""
    officer = clean["officer"]
    if not isinstance(officer, str) or len(officer) > 128:
        return [{"field": "officer", "type": "string", "message": "id petugas (lihat GET /staff/officers)"}]
    if not report.opd_code or officers.get(report.opd_code, officer) is None:
        return [{"field": "officer", "type": "unknown",
                 "message": "bukan petugas OPD yang menangani laporan ini (lihat GET /staff/officers)"}]
    if officer == report.assigned_to:
        return [{"field": "officer", "type": "unchanged", "message": "laporan sudah ditugaskan ke petugas ini"}]
    return []


def _correction_problems(action: str, clean: dict[str, Any], report: Report) -> list[dict[str, Any]]:
    """Type, kecamatan and desa as given to `verify`/`correct` (category is checked with the other
    codes); the desa is turned into its Kemendagri code, the kecamatan into its code."""
    problems: list[dict[str, Any]] = []
    kecamatan = report.kecamatan
    if "kecamatan" in clean:
        found = reference.find_kecamatan(str(clean["kecamatan"]))
        if found is None:
            problems.append({"field": "kecamatan", "type": "unknown",
                             "message": "bukan kecamatan di Kabupaten Bandung Barat (lihat GET /kecamatan)"})
        else:
            clean["kecamatan"] = kecamatan = found
    if "desa" in clean and not any(p["field"] == "kecamatan" for p in problems):
        desa = reference.find_desa(kecamatan, str(clean["desa"]))
        if desa is None:
            problems.append({"field": "desa", "type": "unknown",
                             "message": "bukan desa/kelurahan di kecamatan ini (lihat daftar desa di GET /kecamatan)"})
        else:
            clean["desa"] = desa["code"]
    if action == "correct" and not problems and not _corrections(clean, report):
        given = [f for f in wf.CORRECTABLE_FIELDS if f in clean]
        problems.append({"field": given[0] if given else "type", "type": "unchanged",
                         "message": "tidak ada yang dikoreksi: sebutkan jenis, kategori, kecamatan atau desa "
                                    "yang berbeda dari data sekarang"})
    return problems


def _corrections(fields: Mapping[str, Any], report: Report) -> dict[str, dict[str, Any]]:
    """What `fields` change of the report's type, category, kecamatan and desa: {field: {from, to}}."""
    return report_entity.corrections(fields, {"type": report.type, "category": report.category,
                                              "kecamatan": report.kecamatan,
                                              "desa": report.location.desa if report.location else None})


# How far ahead an OPD may plan: the longest case of config/sla.json is 60 HK (about three
# months); a year leaves room for a field job that needs a budget cycle, and stops typos (2062).
_PLANNED_MAX_DAYS = 366


def _planned_completion_problems(clean: dict[str, Any]) -> list[dict[str, Any]]:
    """`planned_completion` as a date from today (WIB) to a year ahead; stored as YYYY-MM-DD."""
    value = clean["planned_completion"]
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, date) or isinstance(value, datetime):
        return [{"field": "planned_completion", "type": "date_parsing", "message": "harus tanggal YYYY-MM-DD"}]
    today = clock.to_wib(clock.now()).date()
    if value < today:
        return [{"field": "planned_completion", "type": "past", "message": "tanggal rencana selesai sudah lewat"}]
    if (value - today).days > _PLANNED_MAX_DAYS:
        return [{"field": "planned_completion", "type": "too_far",
                 "message": "tanggal rencana selesai paling lambat satu tahun dari hari ini"}]
    clean["planned_completion"] = value.isoformat()
    return []


# -- applying a move in memory ------------------------------------------------------------------

def apply_move(report: Report, action: str, who: Actor, fields: Mapping[str, Any], now: datetime) -> Event:
    """Apply `action` by `who` to `report` IN MEMORY (the domain's entity decides what the move
    does, chalicelib/domain/report.py) and return its event; the caller saves it with
    `reports.update`. Raises the domain's WorkflowError when the table does not allow the move.
    `fields` are already checked (`_check_fields`)."""
    moved = reports.entity_of(report)
    event = moved.apply(action, who, fields, now, sla_fields)
    reports.apply_entity(moved, report)
    return event


def _change(event: Event, attachments: Sequence[str], tracking_id: str) -> reports.Change:
    """The move's write: its event, and the claims on the attachments it references."""
    return reports.Change([event], attachment_claims.claim_items(list(attachments), tracking_id))


def _refused_write(exc: reports.Conflict, attachments: Sequence[str], tracking_id: str) -> DomainError:
    """A write that lost for good: a refused claim names its files (400); otherwise a 409."""
    attachment_claims.explain_refused_claim(exc, list(attachments), tracking_id)
    return _conflict()


def _retry_after_bookkeeping(tracking_id: str, attachments: Callable[[], Sequence[str]], *,
                             humans_too: bool) -> Callable[[int, reports.Conflict], bool]:
    """`reports.update`'s retry rule for moves. A refused claim on a file that is still not
    usable is the client's 400; anything else is tried again when what won the race was
    bookkeeping (see `_only_bookkeeping`), including a file that became clean meanwhile."""
    def retry(seen_seq: int, exc: reports.Conflict) -> bool:
        attachment_claims.explain_refused_claim(exc, list(attachments()), tracking_id)
        return _only_bookkeeping(tracking_id, seen_seq, humans_too=humans_too)
    return retry


def _conflict() -> VersionConflict:
    return version_conflict("Laporan telah berubah sejak dibuka; muat ulang lalu coba lagi.")


def _only_bookkeeping(tracking_id: str, after_seq: int, *, humans_too: bool) -> bool:
    """Whether everything written after event `after_seq` left the report's status alone and,
    unless `humans_too`, was the system's own internal bookkeeping (SP4N-LAPOR! sync records,
    SLA reminders). Such a change does not touch what an actor decided on, so their move is
    re-checked and retried instead of refused."""
    return all(_is_bookkeeping(e, humans_too=humans_too)
               for e in reports.events(tracking_id) if int(e.seq) > after_seq)


def _is_bookkeeping(event: ReportEvent, *, humans_too: bool = False) -> bool:
    if event.from_status != event.to_status:
        return False
    return humans_too or (event.actor == "sistem" and not event.public)


def _unseen_only_bookkeeping(tracking_id: str, seen_version: int, current: int) -> bool:
    """Whether every write after the client's `seen_version` (its If-Match) up to `current` was
    the system's own bookkeeping, as the events those writes stamped with their version show.

    An officer's next action is sent with the version of the view they acted from; the
    SP4N-LAPOR! sync records each action a second later. Refusing that as "changed by someone
    else" would refuse nearly every second action. A write with no event, or with events stored
    before events carried a version, cannot be shown to be bookkeeping: it stays a conflict."""
    if not 1 <= seen_version < current:
        return False
    stamped: set[int] = set()
    for e in reports.events(tracking_id):
        if e.version is None or int(e.version) <= seen_version:
            continue
        if not _is_bookkeeping(e):
            return False
        stamped.add(int(e.version))
    return stamped == set(range(seen_version + 1, current + 1))


def _refusal(exc: wf.WorkflowError) -> DomainError:
    if isinstance(exc, wf.UnknownAction):
        return validation_error([{"field": "action", "type": "enum",
                                  "message": f"salah satu dari {', '.join(wf.STAFF_ACTIONS)}"}])
    if isinstance(exc, wf.NotPermitted):
        return forbidden()
    return invalid_transition(exc.message)


# -- staff ----------------------------------------------------------------------------------------

def act(tracking_id: str, action: str, principal: Principal, fields: Mapping[str, Any],
        if_match: int | None = None, now: datetime | None = None) -> Report:
    """A staff action (CONTRACT.md's table). Returns the saved report.

    Order of refusals: not visible 404; unknown action 400; role not permitted 403; bad fields
    400; stale If-Match 409 version_conflict; not allowed in this status 409 invalid_transition.

    Concurrency: the write is conditional on the version read, and If-Match names the version the
    client acted from. A change since then is refused with 409 version_conflict, unless it was
    only the system's internal bookkeeping (an SP4N-LAPOR! sync record, an SLA reminder): then
    the action is checked again against the new state and goes ahead (a few retries at most).
    """
    who = staff_actor(principal, action)
    if action not in wf.STAFF_ACTIONS:
        raise _refusal(wf.UnknownAction(action, action=action, role=who.role))
    if wf.Role(who.role) not in wf.ACTIONS[action].roles:
        load_for_staff(tracking_id, principal)  # a report the caller cannot see is a 404 first
        raise _refusal(wf.NotPermitted(action, action=action, role=who.role))
    if action == "merge":  # two reports in one write: chalicelib/services/duplicates.py
        from chalicelib.services import duplicates

        return duplicates.merge(tracking_id, principal, fields, if_match, now)
    attachments: Sequence[str] = ()

    def move(report: Report) -> reports.Change:
        nonlocal attachments
        if not visible_to(principal, report):
            raise not_found("Tidak ada laporan dengan nomor ini.")
        clean = _check_fields(action, fields, report)
        expected = int(report.version)
        if if_match is not None and if_match != expected and not _unseen_only_bookkeeping(
                report.tracking_id, if_match, expected):
            raise version_conflict(f"Laporan sudah pada versi {expected}, bukan {if_match}; muat ulang lalu coba lagi.")
        attachments = clean.get("attachments") or ()
        try:
            event = apply_move(report, action, who, clean, now or clock.now())
        except wf.WorkflowError as exc:
            raise _refusal(exc) from None
        return _change(event, attachments, report.tracking_id)

    try:
        saved = reports.update(tracking_id, move, attempts=_RETRIES,
                               retry=_retry_after_bookkeeping(tracking_id, lambda: attachments, humans_too=False))
    except reports.Conflict as exc:
        raise _refused_write(exc, attachments, tracking_id) from None
    if saved is None:
        raise not_found("Tidak ada laporan dengan nomor ini.")
    return saved.report


# -- the reporter ---------------------------------------------------------------------------------

def reporter_act(tracking_id: str, token: str | None, action: str, fields: Mapping[str, Any],
                 now: datetime | None = None) -> Report:
    """`reply` or `feedback` by the holder of the report's access token.

    The reporter acts on the status they saw: a concurrent change that left the status alone
    (an internal note, a sync record) does not refuse their move; it is checked again and
    retried. A concurrent status change is a 409.
    """
    return _reporter_move(lambda: views.load_for_reporter(tracking_id, token), action, fields, now)


def reporter_act_by_phone(tracking_id: str, phone_hash: str, action: str, fields: Mapping[str, Any],
                          now: datetime | None = None) -> Report:
    """The same move by the reporter writing from the number the report was filed with (the
    WhatsApp chat: the number is the proof, as the access code is on the web). Another number
    gets the same 404 as an unknown report."""
    import hmac

    def load() -> Report:
        report = reports.get(tracking_id)
        if report is None or not report.phone_hash or not hmac.compare_digest(str(report.phone_hash), phone_hash):
            raise not_found("Tidak ada laporan dengan nomor ini dari nomor Anda.")
        return report

    return _reporter_move(load, action, fields, now)


def _reporter_move(load: Any, action: str, fields: Mapping[str, Any], now: datetime | None) -> Report:
    if action not in wf.REPORTER_ACTIONS:
        raise ValueError(f"not a reporter action: {action}")
    attachments: Sequence[str] = ()

    def move(report: Report) -> reports.Change:
        nonlocal attachments
        clean = _check_fields(action, fields, report)
        attachments = clean.get("attachments") or ()
        try:
            event = apply_move(report, action, REPORTER, clean, now or clock.now())
        except wf.WorkflowError as exc:
            raise _refusal(exc) from None
        return _change(event, attachments, report.tracking_id)

    first = load()
    try:
        saved = reports.update(first.tracking_id, move, attempts=_RETRIES, current=first,
                               read=lambda _tid: load(),
                               retry=_retry_after_bookkeeping(first.tracking_id, lambda: attachments,
                                                              humans_too=True))
    except reports.Conflict as exc:
        raise _refused_write(exc, attachments, first.tracking_id) from None
    if saved is None:
        raise not_found("Tidak ada laporan dengan nomor ini.")
    return saved.report


# -- SP4N-LAPOR! ----------------------------------------------------------------------------------

def apply_sp4n_move(report: Report, action: str, fields: Mapping[str, Any], now: datetime,
                    data: Mapping[str, Any]) -> Event:
    """A move brought in from SP4N-LAPOR! by the pull, applied IN MEMORY (the caller saves with
    the version check): its reporter's `reply`/`feedback` exactly as the reporter's own (same
    fields, same edges, actor `pelapor`), or its admins' status change (`sp4n_archive`,
    `sp4n_close`, role `sp4n`, shown as `sistem`). Raises the domain's WorkflowError when our table does not allow
    it, and Invalid when the fields are not what the action takes."""
    if action in wf.REPORTER_ACTIONS:
        who, clean = REPORTER, _check_fields(action, fields, report)
    elif action in wf.SP4N_ACTIONS:
        who, clean = SP4N_ADMIN, {}
    else:
        raise ValueError(f"not a move SP4N-LAPOR! may bring: {action}")
    event = apply_move(report, action, who, clean, now)
    event.data = {**(event.data or {}), **{k: v for k, v in data.items() if v is not None}}
    return event


# -- the system -----------------------------------------------------------------------------------

def apply_system_move(report: Report, action: str, now: datetime,
                      data: Mapping[str, Any] | None = None) -> Event:
    """`auto_close` or `archive` applied to `report` in memory (for callers that write other
    events in the same transaction, like the SLA sweep). Extra `data` (e.g. the stage and
    audience) is merged into the event's data. The caller saves."""
    if action not in wf.SYSTEM_ACTIONS:
        raise ValueError(f"not a system action: {action}")
    event = apply_move(report, action, SYSTEM, {}, now)
    if data:
        event.data = {**(event.data or {}), **{k: v for k, v in data.items() if v is not None}}
    return event


def apply_system(tracking_id: str, action: str, now: datetime | None = None,
                 data: Mapping[str, Any] | None = None) -> Report | None:
    """Apply a system move (`auto_close`, `archive`) and save it.

    Returns None when the report no longer exists or the move no longer applies (a reporter
    replied in time, an admin closed it): the system never fights a human. Raises
    VersionConflict when the report changed between reading and writing; retry on the next run.
    """
    moment = now or clock.now()

    def move(report: Report) -> list[Event] | None:
        try:
            return [apply_system_move(report, action, moment, data)]
        except wf.InvalidTransition:
            return None

    try:
        saved = reports.update(tracking_id, move, attempts=1)
    except reports.Conflict:
        raise _conflict() from None
    return saved.report if saved is not None and saved.written else None
