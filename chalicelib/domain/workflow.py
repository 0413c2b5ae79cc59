"""The report state machine, as data.

One `Action` row per thing that can happen to a report: who may do it (roles), from which
statuses, to which status, which fields it needs, and whether the reporter sees it on the
timeline. Services call `transition()`; UIs call `actions_for()`; tests iterate `ACTIONS`. The
rules behind the rows, move by move: docs/DOMAIN.md ("The workflow, move by move").
"""
from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar, NamedTuple


class Status(StrEnum):
    DIAJUKAN = "diajukan"
    PERLU_KELENGKAPAN = "perlu_kelengkapan"
    DITOLAK = "ditolak"
    DIDISPOSISIKAN = "didisposisikan"
    DIPROSES = "diproses"
    DIKEMBALIKAN = "dikembalikan"
    DITINDAKLANJUTI = "ditindaklanjuti"
    SELESAI = "selesai"


class Role(StrEnum):
    ADMIN = "admin"
    OPD = "opd"
    PIMPINAN = "pimpinan"
    PELAPOR = "pelapor"
    SISTEM = "sistem"
    # SP4N-LAPOR!'s own admins, as the pull brings their status changes in.
    SP4N = "sp4n"
    # The head of an OPD's desk: an `opd` user who also assigns the OPD's reports to its officers.
    OPD_ADMIN = "opd_admin"


ALL_STATUSES: tuple[Status, ...] = tuple(Status)
CLOSED_STATUSES: frozenset[Status] = frozenset({Status.DITOLAK, Status.SELESAI})
OPEN_STATUSES: frozenset[Status] = frozenset(ALL_STATUSES) - CLOSED_STATUSES
INITIAL_STATUS = Status.DIAJUKAN
STAFF_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.OPD, Role.PIMPINAN, Role.OPD_ADMIN})
# Statuses in which an OPD holds a report (its `opd_code` is set and the OPD works it).
HELD_STATUSES: tuple[Status, ...] = (Status.DIDISPOSISIKAN, Status.DIPROSES, Status.PERLU_KELENGKAPAN,
                                     Status.DITINDAKLANJUTI)
# What `verify` and `correct` may change of what intake recorded.
CORRECTABLE_FIELDS: tuple[str, ...] = ("type", "category", "kecamatan", "desa")


def is_open(status: str) -> bool:
    return Status(status) in OPEN_STATUSES


# Why an OPD hands a report back (and why an admin rejects one): codes, so the SP4N-LAPOR!
# mapping and the Tukin record key on a stable value, never on what someone typed.
RETURN_REASON_CODES: Mapping[str, str] = MappingProxyType({
    "bukan_wewenang": "Bukan wewenang OPD ini",
    "kewenangan_pusat_provinsi": "Kewenangan pemerintah pusat atau provinsi",
    "data_kurang": "Data laporan kurang",
    "duplikat": "Duplikat laporan lain",
    "lainnya": "Lainnya",
})

CLASSIFICATIONS = ("berkadar_pengawasan", "tidak_berkadar_pengawasan")
REPORT_TYPES = ("pengaduan", "aspirasi", "permintaan_informasi")
PRIVACY_MODES = ("publik", "anonim", "rahasia")  # from the most open to the most closed


class FieldRule(NamedTuple):
    """What one field of an action holds. The API builds each action's request model from these
    (so /openapi.json documents them) and the workflow service checks moves from other channels
    against the same rules: one place per limit."""

    kind: str  # text | code | choice | files | date | bool | rating
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    description: str = ""


FIELDS: Mapping[str, FieldRule] = MappingProxyType({
    "opd_code": FieldRule("code", 40, description="the OPD (GET /opds)"),
    "classification": FieldRule("choice", choices=CLASSIFICATIONS, description="pengaduan only"),
    "category": FieldRule("code", 60, description="a category (GET /categories)"),
    "note": FieldRule("text", 2000, description="internal"),
    "message": FieldRule("text", 4000, description="what the reporter reads (internal for `note`)"),
    "reason": FieldRule("text", 500, description="internal"),
    "reason_code": FieldRule("choice", choices=tuple(RETURN_REASON_CODES),
                             description="why, as a code; it decides how SP4N-LAPOR! is told"),
    "attachments": FieldRule("files", 5, description="attachment ids (POST /attachments), checked clean"),
    "privacy": FieldRule("choice", choices=PRIVACY_MODES,
                         description="raise the report's privacy (publik -> anonim -> rahasia); a lower one is a 400"),
    "planned_completion": FieldRule("date", description="the date (YYYY-MM-DD, today to a year ahead) the OPD "
                                    "plans to finish; shown to the reporter"),
    "resolved": FieldRule("bool", description="the reporter says the problem is solved"),
    "rating": FieldRule("rating", description="1 to 5"),
    "comment": FieldRule("text", 2000, description="the reporter's words with the feedback"),
    "officer": FieldRule("code", 128, description="the officer's user id, from GET /staff/officers"),
    "type": FieldRule("choice", choices=REPORT_TYPES, description="the corrected type"),
    "kecamatan": FieldRule("code", 60, description="the corrected kecamatan (code or name)"),
    "desa": FieldRule("code", 100, description="the corrected desa (Kemendagri code or name) of the report's "
                      "kecamatan (the corrected one if given)"),
    "primary": FieldRule("code", 40, description="the tracking id of the report this one duplicates"),
})


# -- errors ---------------------------------------------------------------------------------

class WorkflowError(Exception):
    """Base of the workflow's refusals; `code`/`http_status` follow CONTRACT.md's error table."""

    code: ClassVar[str] = "invalid_transition"
    http_status: ClassVar[int] = 409

    def __init__(self, message: str, *, action: str, role: str, status: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        self.role = role
        self.status = status


class UnknownAction(WorkflowError):
    code = "validation_error"
    http_status = 400


class NotPermitted(WorkflowError):
    code = "forbidden"
    http_status = 403


class InvalidTransition(WorkflowError):
    code = "invalid_transition"
    http_status = 409


# -- the table ------------------------------------------------------------------------------

class Edge(NamedTuple):
    """One allowed move of an action. `target` None: the status stays as it is."""

    source: Status
    target: Status | None
    # Only for actions that branch on the reporter's answer (feedback): which answer takes it.
    resolved: bool | None = None
    # Timeline text for this edge, when the action's own text is internal or absent.
    neutral_message: str | None = None
    # Only these of the action's roles take this edge (None: every role of the action).
    roles: frozenset[Role] | None = None
    # Only for `reply` from perlu_kelengkapan: whose request for information it answers.
    asked_by: Role | None = None


class Action(NamedTuple):
    name: str
    roles: frozenset[Role]
    edges: tuple[Edge, ...]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # Shown on the reporter's timeline (the event's `public` flag).
    public: bool = True
    # The field whose text the reporter reads on the timeline; None: use the neutral message.
    public_text_field: str | None = None
    neutral_message: str | None = None
    # After this action the SLA clock is computed afresh (new stage, new OPD, or no stage).
    restarts_sla: bool = True
    # Actions whose target depends on `resolved` (feedback) need it passed to `transition`.
    branches_on_resolved: bool = False

    @property
    def from_statuses(self) -> frozenset[Status]:
        return frozenset(e.source for e in self.edges)

    @property
    def changes_status(self) -> bool:
        return any(e.target is not None for e in self.edges)

    def edge(self, status: Status, resolved: bool | None = None, role: Role | None = None,
             asked_by: Role | None = None) -> Edge | None:
        for e in self.edges:
            if (e.source == status and (e.resolved is None or e.resolved == resolved)
                    and (e.roles is None or role in e.roles)
                    and (e.asked_by is None or e.asked_by == (asked_by or Role.ADMIN))):
                return e
        return None

    def sources_for(self, role: Role) -> frozenset[Status]:
        return frozenset(e.source for e in self.edges if e.roles is None or role in e.roles)


def _to(target: Status, *sources: Status, message: str | None = None) -> tuple[Edge, ...]:
    return tuple(Edge(source=s, target=target, neutral_message=message) for s in sources)


_S = Status
_OPEN_ORDERED = tuple(s for s in ALL_STATUSES if s in OPEN_STATUSES)

_TABLE: tuple[Action, ...] = (
    # -- staff: CONTRACT.md's actions table, row by row --
    Action(
        name="verify",
        roles=frozenset({Role.ADMIN}),
        edges=_to(_S.DIDISPOSISIKAN, _S.DIAJUKAN),
        required=("opd_code",),
        optional=("classification", "category", "note", "privacy", "type", "kecamatan", "desa"),
        neutral_message="Laporan telah diverifikasi dan diteruskan ke instansi yang berwenang.",
    ),
    Action(
        name="request_info",
        roles=frozenset({Role.ADMIN, Role.OPD}),
        edges=(
            Edge(_S.DIAJUKAN, _S.PERLU_KELENGKAPAN, roles=frozenset({Role.ADMIN})),
            Edge(_S.DIPROSES, _S.PERLU_KELENGKAPAN, roles=frozenset({Role.OPD})),
        ),
        required=("message",),
        public_text_field="message",
    ),
    Action(
        name="reject",
        roles=frozenset({Role.ADMIN}),
        edges=_to(_S.DITOLAK, _S.DIAJUKAN, _S.PERLU_KELENGKAPAN),
        required=("reason", "message"),
        optional=("reason_code",),
        public_text_field="message",
    ),
    Action(
        name="redispose",
        roles=frozenset({Role.ADMIN}),
        edges=_to(_S.DIDISPOSISIKAN, _S.DIDISPOSISIKAN, _S.DIPROSES, _S.DIKEMBALIKAN),
        required=("opd_code", "note"),
        neutral_message="Laporan diteruskan ke instansi yang berwenang.",
    ),
    Action(
        name="accept",
        roles=frozenset({Role.OPD}),
        edges=_to(_S.DIPROSES, _S.DIDISPOSISIKAN),
        neutral_message="Laporan diterima oleh instansi dan sedang diproses.",
    ),
    Action(
        name="respond",
        roles=frozenset({Role.OPD}),
        edges=_to(_S.DITINDAKLANJUTI, _S.DIDISPOSISIKAN, _S.DIPROSES),
        required=("message",),
        optional=("attachments",),
        public_text_field="message",
    ),
    Action(
        name="progress",
        roles=frozenset({Role.OPD}),
        edges=(
            Edge(_S.DIDISPOSISIKAN, _S.DIPROSES),
            Edge(_S.DIPROSES, None),
        ),
        required=("message",),
        optional=("attachments", "planned_completion"),
        public_text_field="message",
    ),
    Action(
        name="return",
        roles=frozenset({Role.OPD}),
        edges=_to(_S.DIKEMBALIKAN, _S.DIDISPOSISIKAN, _S.DIPROSES),
        required=("reason_code", "reason"),
        # The reason (why it is not this OPD's authority) is for staff only.
        neutral_message="Laporan sedang ditinjau ulang untuk diteruskan ke instansi yang berwenang.",
    ),
    Action(
        name="note",
        roles=frozenset({Role.ADMIN, Role.OPD}),
        edges=tuple(Edge(source=s, target=None) for s in ALL_STATUSES),
        required=("message",),
        public=False,
        restarts_sla=False,
    ),
    Action(
        name="close",
        roles=frozenset({Role.ADMIN}),
        edges=_to(_S.SELESAI, *_OPEN_ORDERED),
        required=("message",),
        public_text_field="message",
    ),
    Action(
        name="assign",
        roles=frozenset({Role.OPD_ADMIN}),
        edges=tuple(Edge(source=s, target=None) for s in HELD_STATUSES),
        required=("officer",),
        optional=("note",),
        public=False,
        restarts_sla=False,
    ),
    Action(
        name="correct",
        roles=frozenset({Role.ADMIN}),
        edges=tuple(Edge(source=s, target=None) for s in _OPEN_ORDERED),
        optional=(*CORRECTABLE_FIELDS, "note"),
        public=False,
        restarts_sla=False,
    ),
    Action(
        name="merge",
        roles=frozenset({Role.ADMIN}),
        # The status stays: the duplicate follows its primary from now on (merged_into).
        edges=tuple(Edge(source=s, target=None) for s in _OPEN_ORDERED),
        required=("primary",),
        optional=("note",),
        neutral_message=(
            "Laporan ini digabungkan dengan laporan lain tentang masalah yang sama; "
            "perkembangannya akan tampil di sini."
        ),
        restarts_sla=False,
    ),
    # -- the reporter --
    Action(
        name="reply",
        roles=frozenset({Role.PELAPOR}),
        edges=(
            Edge(_S.PERLU_KELENGKAPAN, _S.DIAJUKAN, asked_by=Role.ADMIN),
            Edge(_S.PERLU_KELENGKAPAN, _S.DIPROSES, asked_by=Role.OPD),
            Edge(_S.DITINDAKLANJUTI, _S.DIPROSES),
        ),
        required=("message",),
        optional=("attachments",),  # the document a kelengkapan request asked for
        public_text_field="message",
    ),
    Action(
        name="feedback",
        roles=frozenset({Role.PELAPOR}),
        edges=(
            Edge(_S.DITINDAKLANJUTI, _S.SELESAI, resolved=True,
                 neutral_message="Pelapor menyatakan laporan telah selesai."),
            Edge(_S.DITINDAKLANJUTI, _S.DIPROSES, resolved=False,
                 neutral_message="Pelapor menyatakan masalah belum selesai; laporan dibuka kembali."),
        ),
        required=("resolved",),
        optional=("rating", "comment"),
        public_text_field="comment",
        branches_on_resolved=True,
    ),
    # -- the system --
    Action(
        name="auto_close",
        roles=frozenset({Role.SISTEM}),
        edges=_to(_S.SELESAI, _S.DITINDAKLANJUTI),
        neutral_message=(
            "Laporan ditutup otomatis karena tidak ada tanggapan dari pelapor dalam batas waktu konfirmasi."
        ),
    ),
    Action(
        name="archive",
        roles=frozenset({Role.SISTEM}),
        edges=_to(_S.DITOLAK, _S.PERLU_KELENGKAPAN),
        neutral_message=(
            "Laporan diarsipkan karena kelengkapan yang diminta tidak diterima dalam batas waktu."
        ),
    ),
    # -- SP4N-LAPOR!'s own admins (see the module doc) --
    Action(
        name="sp4n_archive",
        roles=frozenset({Role.SP4N}),
        edges=_to(_S.DITOLAK, _S.DIAJUKAN, _S.PERLU_KELENGKAPAN),
        neutral_message="Laporan diarsipkan oleh pengelola SP4N-LAPOR!.",
    ),
    Action(
        name="sp4n_close",
        roles=frozenset({Role.SP4N}),
        edges=_to(_S.SELESAI, _S.DITINDAKLANJUTI),
        neutral_message="Laporan dinyatakan selesai di SP4N-LAPOR!.",
    ),
    Action(
        name="sla_reminder",
        roles=frozenset({Role.SISTEM}),
        edges=tuple(Edge(source=s, target=None) for s in _OPEN_ORDERED),
        public=False,
        restarts_sla=False,
    ),
    Action(
        name="sla_breach",
        roles=frozenset({Role.SISTEM}),
        edges=tuple(Edge(source=s, target=None) for s in _OPEN_ORDERED),
        public=False,
        restarts_sla=False,
    ),
)

ACTIONS: Mapping[str, Action] = MappingProxyType({a.name: a for a in _TABLE})
STAFF_ACTIONS: tuple[str, ...] = tuple(a.name for a in _TABLE if a.roles & STAFF_ROLES)
REPORTER_ACTIONS: tuple[str, ...] = tuple(a.name for a in _TABLE if Role.PELAPOR in a.roles)
SYSTEM_ACTIONS: tuple[str, ...] = tuple(a.name for a in _TABLE if Role.SISTEM in a.roles)
SP4N_ACTIONS: tuple[str, ...] = tuple(a.name for a in _TABLE if Role.SP4N in a.roles)


# -- the API --------------------------------------------------------------------------------

class Move(NamedTuple):
    """What an allowed action does to a report: the event to write and the status to set."""

    action: str
    role: Role
    from_status: Status
    to_status: Status  # equal to from_status when nothing changes
    public: bool
    restarts_sla: bool
    public_text_field: str | None
    neutral_message: str | None

    @property
    def changes_status(self) -> bool:
        return self.to_status != self.from_status


def _role(role: str) -> Role | None:
    try:
        return Role(role)
    except ValueError:
        return None


def transition(status: str, action: str, role: str, *, resolved: bool | None = None,
               asked_by: str | None = None) -> Move:
    """The move `role` makes by doing `action` on a report in `status`.

    Raises UnknownAction, then NotPermitted, then InvalidTransition (in that order). `resolved`
    is the feedback answer; it is required for feedback and ignored otherwise. `asked_by` is the
    role that asked for the information a reply in perlu_kelengkapan answers (None: the admin,
    as for every request made before OPDs could ask). An unknown `status` is a ValueError:
    stored data is broken, not the request.
    """
    spec = ACTIONS.get(action)
    if spec is None:
        raise UnknownAction(f"aksi {action!r} tidak dikenal", action=action, role=role)
    who = _role(role)
    if who is None or who not in spec.roles:
        raise NotPermitted(f"peran {role!r} tidak dapat melakukan {action}", action=action, role=role)
    current = Status(status)
    if spec.branches_on_resolved and current in spec.from_statuses and resolved is None:
        raise ValueError(f"{action} needs resolved=true or false")
    edge = spec.edge(current, resolved if spec.branches_on_resolved else None, who,
                     Role(asked_by) if asked_by else None)
    if edge is None:
        raise InvalidTransition(
            f"aksi {action} tidak dapat dilakukan saat laporan berstatus {current.value}",
            action=action, role=role, status=current.value,
        )
    return Move(
        action=spec.name,
        role=who,
        from_status=current,
        to_status=edge.target if edge.target is not None else current,
        public=spec.public,
        restarts_sla=spec.restarts_sla,
        public_text_field=spec.public_text_field,
        neutral_message=edge.neutral_message or spec.neutral_message,
    )


def actions_for(status: str, role: str) -> list[str]:
    """Actions `role` may do on a report in `status`, in table order (for UIs)."""
    current = Status(status)
    who = _role(role)
    if who is None:
        return []
    return [a.name for a in _TABLE if who in a.roles and current in a.sources_for(who)]


def required_fields(action: str) -> tuple[str, ...]:
    return _spec(action).required


def optional_fields(action: str) -> tuple[str, ...]:
    return _spec(action).optional


def _spec(action: str) -> Action:
    spec = ACTIONS.get(action)
    if spec is None:
        raise UnknownAction(f"aksi {action!r} tidak dikenal", action=action, role="")
    return spec


def timeline_message(move: Move, fields: Mapping[str, object]) -> str | None:
    """The text the reporter reads for this move, or None when the event is not public.

    The actor's own text when the action's text field is public and filled in (an OPD's answer,
    the reporter's reply); otherwise the neutral message, so internal reasons never leak.
    """
    if not move.public:
        return None
    if move.public_text_field is not None:
        text = fields.get(move.public_text_field)
        if isinstance(text, str) and text.strip():
            return text.strip()
    return move.neutral_message


def is_neutral_message(action: str, message: str | None) -> bool:
    """True when `message` is the action's own neutral timeline text, not one a person wrote.

    A neutral text only restates the new status: a one-segment SMS that already names the status
    leaves it out rather than say the same thing twice."""
    spec = ACTIONS.get(action)
    if spec is None or not message:
        return False
    neutral = {spec.neutral_message, *(e.neutral_message for e in spec.edges)}
    return message.strip() in {m for m in neutral if m}


# -- merging duplicates -----------------------------------------------------------------------

# What may still happen to a report merged into another: an internal note. Every other move is
# the primary's to make, and the duplicate follows it.
MERGED_ALLOWS: frozenset[str] = frozenset({"note"})


def check_merged(action: str, role: str, merged_into: str | None) -> None:
    """Refuse a move on a report that was merged into another (409), except MERGED_ALLOWS."""
    if merged_into and action not in MERGED_ALLOWS:
        raise InvalidTransition(
            "laporan ini telah digabungkan ke laporan lain; tindak lanjut dilakukan pada laporan utama",
            action=action, role=role)


def check_merge(*, duplicate_id: str, duplicate_status: str, duplicate_merged_into: str | None,
                duplicate_has_merged: bool, primary_id: str, primary_status: str,
                primary_merged_into: str | None, role: str = Role.ADMIN.value) -> None:
    """The rules of `merge` that need both reports (the table checks the duplicate's own status).

    A report is never merged into itself, into a closed report, or into one that is itself merged
    (chains would hide the report that is worked on); a report that others were merged into stays
    their primary; a report is merged once."""
    def refuse(message: str) -> None:
        raise InvalidTransition(message, action="merge", role=role, status=duplicate_status)

    if duplicate_id == primary_id:
        refuse("laporan tidak dapat digabungkan ke dirinya sendiri")
    if duplicate_merged_into:
        refuse("laporan ini sudah digabungkan ke laporan lain")
    if duplicate_has_merged:
        refuse("laporan ini menjadi laporan utama bagi laporan lain dan tidak dapat digabungkan")
    if not is_open(duplicate_status):
        refuse(f"laporan berstatus {duplicate_status} tidak dapat digabungkan")
    if not is_open(primary_status):
        refuse("laporan utama sudah ditutup; laporan tidak dapat digabungkan ke laporan yang sudah selesai "
               "atau ditolak")
    if primary_merged_into:
        refuse("laporan utama sendiri sudah digabungkan ke laporan lain; pilih laporan utamanya")


# What the reporter of a duplicate reads of a step of a `rahasia` primary: the step's neutral text
# (never what anyone wrote there), or one that says only the new status.
_STATUS_NEUTRAL: Mapping[str, str] = MappingProxyType({
    Status.DIAJUKAN: "Laporan sedang diverifikasi.",
    Status.PERLU_KELENGKAPAN: "Laporan menunggu kelengkapan data.",
    Status.DITOLAK: "Laporan tidak dapat ditindaklanjuti.",
    Status.DIDISPOSISIKAN: "Laporan diteruskan ke instansi yang berwenang.",
    Status.DIPROSES: "Laporan sedang diproses oleh instansi.",
    Status.DIKEMBALIKAN: "Laporan sedang ditinjau ulang untuk diteruskan ke instansi yang berwenang.",
    Status.DITINDAKLANJUTI: "Laporan telah ditindaklanjuti oleh instansi.",
    Status.SELESAI: "Laporan telah selesai.",
})


def neutral_text(action: str, to_status: str) -> str:
    """A step's text with nothing anyone wrote in it: the action's neutral message for that
    status, else a sentence that names only the status."""
    spec = ACTIONS.get(action)
    if spec is not None:
        for e in spec.edges:
            if e.neutral_message and (e.target is None or e.target.value == to_status):
                return e.neutral_message
        if spec.neutral_message:
            return spec.neutral_message
    return _STATUS_NEUTRAL.get(to_status, "Status laporan diperbarui.")
