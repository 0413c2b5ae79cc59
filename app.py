"""Lapor KBB: events in, calls out. Everything else lives in chalicelib/."""
from chalicelib import cold_start

cold_start.begin()  # before the imports: see chalicelib/cold_start.py

# Before anything else: urllib3 (under botocore, which every function loads) compiles large URL
# patterns at import. On a fresh interpreter's small heap that is cheap; after the app's modules
# the same compile made the allocator map and unmap memory thousands of times (docs/DESIGN.md).
import urllib3  # noqa: F401  isort: skip
from chalice import Chalice, Cron, Rate

from chalicelib import observability  # logging with personal data masked, metrics
from chalicelib.api import http

app = Chalice(app_name="lapor-kbb", configure_logs=False)
app.register_middleware(http.middleware, "http")
app.register_middleware(observability.middleware, "all")  # correlation id, metrics flush
app.register_middleware(cold_start.middleware, "all")

# The routes of chalicelib/api/routes.py; each module is imported by its route's first call.
http.register(app)

# API Gateway routes a preflight only to a path that declares OPTIONS; the middleware answers it.
for _path, _methods in list(app.routes.items()):
    if "OPTIONS" not in _methods:
        app.route(_path, methods=["OPTIONS"])(http.preflight_view)


# Fan-out: events stream -> dispatcher -> SNS -> one SQS queue per consumer. Services are
# imported inside the handlers so the API function's cold start does not load them.
# The stream is named by the template output: packaging (infra/triggers.py) rewrites it to
# the events table's StreamArn and adds ReportBatchItemFailures; the local pump reads
# EVENTS_TABLE_STREAM_ARN. Function names match infra/permissions.yaml and .chalice/config.json.
@app.on_dynamodb_record(stream_arn="EventsTableStreamArn", batch_size=100, starting_position="TRIM_HORIZON",
                        name="dispatch")
def dispatch_events(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import dispatch

    return dispatch.handle(event.to_dict(), event.context)


@app.on_sqs_message(queue="NotifyQueue", batch_size=10, maximum_batching_window_in_seconds=5, name="notify")
def notify_consumer(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import notify

    return notify.handle(event.to_dict(), event.context)


# At most 2 concurrent batches: SP4N-LAPOR! is a shared national service, not ours to flood.
@app.on_sqs_message(queue="SyncQueue", batch_size=10, maximum_batching_window_in_seconds=5,
                    maximum_concurrency=2, name="sync")
def sync_consumer(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import sync

    return sync.handle(event.to_dict(), event.context)


# Every 3 hours, as the known LAPOR! integrations poll (the local pump runs it more often).
@app.schedule("rate(3 hours)", name="sp4n_pull")
def sp4n_pull(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import sync

    return sync.pull()


# Daily at 05:00 WIB (22:00 UTC): our open synced reports against SP4N-LAPOR!, repaired or listed.
@app.schedule(Cron(0, 22, "*", "*", "?", "*"), name="sp4n_reconcile")
def sp4n_reconcile(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import sync_reconcile

    return sync_reconcile.run()


# Inbound SMS: the gateway's callback, queued by the API -> LAPOR#... files a report, CEK#...
# answers its status (chalicelib/services/sms_inbound.py).
@app.on_sqs_message(queue="SmsInboundQueue", batch_size=10, maximum_batching_window_in_seconds=5, name="sms_inbound")
def sms_inbound_consumer(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import sms_inbound

    return sms_inbound.handle(event.to_dict(), event.context)


# Uploads: S3 ObjectCreated in quarantine -> UploadsQueue -> type check, EXIF strip, move.
@app.on_sqs_message(queue="UploadsQueue", batch_size=5, maximum_batching_window_in_seconds=5, name="scan_upload")
def scan_upload(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import attachments

    return attachments.scan_records(event.to_dict(), event.context)


# Daily at 03:00 WIB (20:00 UTC): clean uploads that no report claimed within 7 days are deleted.
@app.schedule(Cron(0, 20, "*", "*", "?", "*"), name="purge_uploads")
def purge_uploads(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import attachments

    attachments.purge_unclaimed()


# Daily at 03:30 WIB (20:30 UTC): personal data of reports closed longer than the retention
# policy allows is erased (chalicelib/config/retention.json, docs/PRIVACY.md).
@app.schedule(Cron(30, 20, "*", "*", "?", "*"), name="retention")
def retention(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import erasure

    erasure.run_retention()


# Operations: open reports per status, the dashboard's "open work" gauge.
@app.schedule("rate(15 minutes)", name="open_work_metrics")
def open_work_metrics(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import open_work

    open_work.publish()


# SLA engine. Thin: the services do the work and log what they did.
@app.schedule(Rate(15, unit=Rate.MINUTES), name="sla_sweep")
def sla_sweep_schedule(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import sla_sweep

    sla_sweep.run_scheduled(context=event.context)


# Monday 07:30 WIB = Monday 00:30 UTC (EventBridge cron is UTC).
@app.schedule(Cron(30, 0, "?", "*", "MON", "*"), name="sla_weekly_digest")
def sla_weekly_digest(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import sla_sweep

    sla_sweep.weekly_digest()


# Performance record: every event re-folds its report's disposition facts (idempotent,
# order-free), so a month's scoreboard is one Query of that month's facts.
@app.on_sqs_message(queue="PerformanceQueue", batch_size=10, maximum_batching_window_in_seconds=5, name="performance")
def performance_consumer(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import performance

    return performance.handle(event.to_dict(), event.context)


# Daily at 07:30 WIB (00:30 UTC); acts only on the first working day of the month, once per month.
@app.schedule(Cron(30, 0, "*", "*", "?", "*"), name="performance_digest")
def performance_monthly_digest(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import performance

    performance.monthly_digest()


# WhatsApp: the webhook (POST /channels/whatsapp) checks and enqueues; this function runs the chat.
@app.on_sqs_message(queue="WhatsappQueue", batch_size=10, maximum_batching_window_in_seconds=5, name="whatsapp")
def whatsapp_consumer(event):  # type: ignore[no-untyped-def]
    from chalicelib.services import whatsapp_webhook

    return whatsapp_webhook.handle(event.to_dict(), event.context)
