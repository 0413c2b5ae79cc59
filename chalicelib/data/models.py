"""PynamoDB models: the only code that knows table layouts (see docs/DESIGN.md, "Tables").

Table names come from Settings at bind time, so tests and the local stack point the same models
at the tables that infra/resources.yaml created.
"""
from __future__ import annotations

import os
from typing import Any

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import base as _pynamodb_connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.adapters import aws
from chalicelib.config import settings

# Every model's connection draws its botocore session from the one shared with boto3's clients
# (PynamoDB would create a session per model, each costly on a cold start).
_pynamodb_connection.get_session = aws.botocore_session


class _Index(GlobalSecondaryIndex):  # type: ignore[type-arg]
    class Meta:
        projection = AllProjection()


class ByOpd(_Index):
    class Meta:
        index_name = "by_opd"
        projection = AllProjection()

    opd_code = UnicodeAttribute(hash_key=True)
    status_created = UnicodeAttribute(range_key=True)


class ByStatus(_Index):
    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ByMonth(_Index):
    class Meta:
        index_name = "by_month"
        projection = AllProjection()

    created_month = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ByUpdatedMonth(_Index):
    """Sparse: reports the public may list (never `rahasia`), by last change. The Open311 feed
    reads only this index, so a confidential report cannot leak into it through a filter bug."""

    class Meta:
        index_name = "by_updated_month"
        projection = AllProjection()

    updated_month = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class BySweep(_Index):
    class Meta:
        index_name = "by_sweep"
        projection = AllProjection()

    sweep_shard = UnicodeAttribute(hash_key=True)
    sweep_at = UnicodeAttribute(range_key=True)


class BySp4nWatch(_Index):
    """Sparse: reports linked to SP4N-LAPOR! and open ("open"), or whose sync failed or diverged
    ("problem"). Kept by chalicelib.data.reports.sp4n_watch on every write of a report."""

    class Meta:
        index_name = "by_sp4n_watch"
        projection = AllProjection()

    sp4n_watch = UnicodeAttribute(hash_key=True)
    sp4n_checked_at = UnicodeAttribute(range_key=True)


class ByDupePlace(_Index):
    """Sparse: open reports not merged into another, by kecamatan, newest first: where the
    duplicate suggestions look (chalicelib/services/similar.py). Kept by
    chalicelib.data.reports.dupe_place on every write of a report, so a closed or merged report
    leaves it and a suggestion reads the open work of one kecamatan, never the table."""

    class Meta:
        index_name = "by_dupe_place"
        projection = AllProjection()

    dupe_place = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ByUnclaimed(GlobalSecondaryIndex):  # type: ignore[type-arg]
    """Sparse: only clean uploads that no report references yet (the daily purge reads these)."""

    class Meta:
        index_name = "by_unclaimed"
        projection = KeysOnlyProjection()

    unclaimed = UnicodeAttribute(hash_key=True)
    checked_at = UnicodeAttribute(range_key=True)


class ByRetention(GlobalSecondaryIndex):  # type: ignore[type-arg]
    """Sparse: closed reports whose personal data the retention policy has not erased yet."""

    class Meta:
        index_name = "by_retention"
        projection = KeysOnlyProjection()

    retention_due = UnicodeAttribute(hash_key=True)
    closed_at = UnicodeAttribute(range_key=True)


class ByPhoneHash(GlobalSecondaryIndex):  # type: ignore[type-arg]
    """Sparse: reports by the keyed hash of their reporter's phone (data-subject requests)."""

    class Meta:
        index_name = "by_phone_hash"
        projection = KeysOnlyProjection()

    phone_hash = UnicodeAttribute(hash_key=True)


class ByEmailHash(GlobalSecondaryIndex):  # type: ignore[type-arg]
    """Sparse: reports by the keyed hash of their reporter's email (data-subject requests)."""

    class Meta:
        index_name = "by_email_hash"
        projection = KeysOnlyProjection()

    email_hash = UnicodeAttribute(hash_key=True)


class Reporter(MapAttribute):  # type: ignore[type-arg]
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)


class Location(MapAttribute):  # type: ignore[type-arg]
    kecamatan = UnicodeAttribute()
    desa = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)
    lat = NumberAttribute(null=True)
    lon = NumberAttribute(null=True)


class Sp4nState(MapAttribute):  # type: ignore[type-arg]
    state = UnicodeAttribute(default="pending")
    complaint_id = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    last_error = UnicodeAttribute(null=True)
    synced_seq = NumberAttribute(default=0)
    # Last status seen on LAPOR! (reconciliation), and what an admin must settle (a divergence or
    # a status change of LAPOR!'s that our workflow does not allow); None when in step.
    lapor_status = UnicodeAttribute(null=True)
    problem = UnicodeAttribute(null=True)
    # An admin raised the privacy here and LAPOR!'s integration has no call to change it there:
    # what to set by hand on LAPOR! ("rahasia"); cleared once LAPOR!'s flags agree.
    privacy_divergence = UnicodeAttribute(null=True)


class Report(Model):
    class Meta:
        table_name = "reports"

    tracking_id = UnicodeAttribute(hash_key=True)
    type = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    classification = UnicodeAttribute(null=True)
    opd_code = UnicodeAttribute(null=True)
    suggested_opd = UnicodeAttribute(null=True)  # what the reporter or the category suggests
    kecamatan = UnicodeAttribute()
    location = Location()
    incident_date = UnicodeAttribute(null=True)
    privacy = UnicodeAttribute()
    reporter = Reporter(null=True)
    nik_ciphertext = BinaryAttribute(null=True, legacy_encoding=False)
    attachments = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    created_month = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # YYYY-MM (WIB) of updated_at, absent for rahasia reports: set by every write (data/reports.py)
    updated_month = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    event_seq = NumberAttribute(default=1)
    access_token_hash = UnicodeAttribute()
    status_created = UnicodeAttribute(null=True)
    due_at = UnicodeAttribute(null=True)
    sla_stage = UnicodeAttribute(null=True)
    sla_stage_started_at = UnicodeAttribute(null=True)
    sla_breached = BooleanAttribute(default=False)
    sla_state = JSONAttribute(null=True)  # reminders/breaches already sent for the current stage
    sweep_shard = UnicodeAttribute(null=True)
    sweep_at = UnicodeAttribute(null=True)
    sp4n = Sp4nState(default=dict)
    returned_by = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    breached_by = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
    disposed_at = UnicodeAttribute(null=True)
    first_response_at = UnicodeAttribute(null=True)
    # While perlu_kelengkapan: who asked ({"asked_by": "admin"|"opd", "opd_code", "paused": the
    # OPD's stopped clock and its sla_state}); cleared when the report leaves that status.
    info_request = JSONAttribute(null=True)
    # The OPD's planned completion date (YYYY-MM-DD) from its last progress update: public.
    planned_completion = UnicodeAttribute(null=True)
    # The OPD officer (user id) its opd_admin assigned the report to, and when; cleared when the
    # report leaves that OPD.
    assigned_to = UnicodeAttribute(null=True)
    assigned_at = UnicodeAttribute(null=True)
    rating = NumberAttribute(null=True)
    source = UnicodeAttribute(default="web")
    # Personal-data retention (chalicelib/services/erasure.py, docs/PRIVACY.md): `closed_at` is
    # when the report last reached selesai/ditolak; `retention_due` ("yes") keeps it in the sparse
    # by_retention index until its personal data is erased (`erased_at`).
    closed_at = UnicodeAttribute(null=True)
    retention_due = UnicodeAttribute(null=True)
    erased_at = UnicodeAttribute(null=True)
    # Keyed hashes (HMAC) of the reporter's phone and email: the data-subject lookup, never the contact.
    phone_hash = UnicodeAttribute(null=True)
    email_hash = UnicodeAttribute(null=True)
    sp4n_watch = UnicodeAttribute(null=True)  # see BySp4nWatch
    sp4n_checked_at = UnicodeAttribute(null=True)  # when the pull last looked at it on LAPOR!
    # Duplicates (action `merge`): the primary this report follows, and on a primary the reports
    # merged into it. `dupe_place`: the kecamatan while open and not merged (see ByDupePlace).
    merged_into = UnicodeAttribute(null=True)
    merged_ids = ListAttribute(of=UnicodeAttribute, null=True)  # type: ignore[arg-type]
    dupe_place = UnicodeAttribute(null=True)

    by_opd = ByOpd()
    by_status = ByStatus()
    by_month = ByMonth()
    by_updated_month = ByUpdatedMonth()
    by_sweep = BySweep()
    by_retention = ByRetention()
    by_phone_hash = ByPhoneHash()
    by_email_hash = ByEmailHash()
    by_sp4n_watch = BySp4nWatch()
    by_dupe_place = ByDupePlace()


class ReportEvent(Model):
    class Meta:
        table_name = "events"

    tracking_id = UnicodeAttribute(hash_key=True)
    seq = NumberAttribute(range_key=True)
    at = UnicodeAttribute()
    actor = UnicodeAttribute()  # pelapor | admin | opd | sistem
    actor_id = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    action = UnicodeAttribute()
    from_status = UnicodeAttribute(null=True)
    to_status = UnicodeAttribute(null=True)
    message = UnicodeAttribute(null=True)
    public = BooleanAttribute(default=False)
    data = JSONAttribute(null=True)
    # The report version the event's write produced (set by reports.create/save_change; absent on
    # events stored before it existed): says which writes a client's If-Match has not seen.
    version = NumberAttribute(null=True)


class LedgerItem(Model):
    """One control record of the ledger table (idempotency records, rate-limit counters, consumer
    leases, the SP4N cursor, complaint links, digest markers...): its kind is its key prefix, see
    chalicelib/data/ledger.py. The table keeps its first name, "idempotency" (Settings
    .idempotency_table, CloudFormation IdempotencyTable): a new name would be a new, empty table."""

    class Meta:
        table_name = "idempotency"

    key = UnicodeAttribute(hash_key=True)
    fingerprint = UnicodeAttribute(null=True)
    state = UnicodeAttribute(default="done")
    response = JSONAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    hits = NumberAttribute(null=True)  # rate-limit counters (chalicelib/data/rate_limits.py)


class PerformanceFact(Model):
    """One disposition of a report to an OPD: chalicelib.domain.performance.Fact, folded from the
    report's events by the performance consumer. Keyed by month so that a month's scoreboard is one
    Query that reads that month's dispositions only (see chalicelib/data/performance.py)."""

    class Meta:
        table_name = "performance"

    month = UnicodeAttribute(hash_key=True)  # YYYY-MM (WIB) of the disposition
    fact_key = UnicodeAttribute(range_key=True)  # <OPD>#<tracking_id>#<disposition seq>
    tracking_id = UnicodeAttribute()
    opd_code = UnicodeAttribute()
    basis_seq = NumberAttribute()  # the last event of the report folded in
    fact = JSONAttribute()


class MonthClosing(Model):
    """The closing of a Tukin month, in the performance table under partition `close#YYYY-MM`
    (never a month's own partition, so a scoreboard's Query does not read it): range `state` (the
    month's status, with the count of undecided objections and, once final, the frozen board) and
    `objection#<id>` (one OPD's objection). chalicelib/data/month_close.py."""

    class Meta:
        table_name = "performance"

    month = UnicodeAttribute(hash_key=True)  # close#YYYY-MM
    fact_key = UnicodeAttribute(range_key=True)  # state | objection#<id>
    status = UnicodeAttribute(null=True)  # provisional|final; undecided|accepted|rejected
    open_objections = NumberAttribute(null=True)
    data = JSONAttribute(null=True)


class ReferenceItem(Model):
    class Meta:
        table_name = "reference"

    kind = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute(range_key=True)
    data = JSONAttribute()


class Attachment(Model):
    """One upload (POST /attachments). `state`: pending -> clean | rejected, decided once by the
    scanner (chalicelib/services/attachments.py); only clean ones may be referenced or served."""

    class Meta:
        table_name = "attachments"

    attachment_id = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute(default="pending")
    content_type = UnicodeAttribute()  # declared by the client, then proven by the bytes
    size = NumberAttribute()  # declared upper bound (the presigned POST's content-length-range)
    created_at = UnicodeAttribute()
    checked_at = UnicodeAttribute(null=True)
    clean_size = NumberAttribute(null=True)  # bytes of the file in the attachments bucket
    sha256 = UnicodeAttribute(null=True)  # of the clean file
    reason = UnicodeAttribute(null=True)  # why it was rejected (a code, see services/attachments.py)
    expires_at = NumberAttribute(null=True)  # TTL (epoch seconds) of pending and rejected records
    # Claimed once, by the transaction that stores the first report or response referencing it:
    report_id = UnicodeAttribute(null=True)
    unclaimed = UnicodeAttribute(null=True)  # "yes" while clean and not claimed: the by_unclaimed index

    by_unclaimed = ByUnclaimed()


MODELS: dict[str, type[Model]] = {
    "reports_table": Report,
    "events_table": ReportEvent,
    "performance_table": PerformanceFact,
    "idempotency_table": LedgerItem,
    "reference_table": ReferenceItem,
    "attachments_table": Attachment,
}
# Models that share another model's table (same Settings attribute).
SHARED_TABLES: dict[type[Model], str] = {MonthClosing: "performance_table"}


def bind() -> None:
    """Point every model at the tables of the current Settings (and the local endpoint, if any)."""
    s = settings()
    host = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    for attr, model in [*MODELS.items(), *((a, m) for m, a in SHARED_TABLES.items())]:
        meta: Any = model.Meta
        target = (getattr(s, attr), s.region, host)
        if (getattr(meta, "table_name", None), getattr(meta, "region", None), getattr(meta, "host", None)) == target:
            continue  # keep the connection: a new one reloads botocore's service model (~0.2 s)
        meta.table_name, meta.region, meta.host = target
        model._connection = None  # a new connection picks up the new name and endpoint


bind()
