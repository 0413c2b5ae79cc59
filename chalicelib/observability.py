"""Logger and metrics for every function: JSON logs with personal data masked, EMF metrics.

`logger`, `correlate(tracking_id)`, `count(name)` and `open_reports(...)`; the masking, the
middleware's part and why Tracer is not used: docs/DESIGN.md, "Logs, metrics and tracing".
"""
from __future__ import annotations

import logging
import os
import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from chalicelib.domain.redaction import NIK_LIKE, normalise

SERVICE = "lapor-kbb"
NAMESPACE = "LaporKBB"
# Keys of a log line that never hold personal data and must stay machine-readable.
_SAFE_KEYS = frozenset({"level", "location", "timestamp", "service", "xray_trace_id", "cold_start",
                        "function_name", "function_memory_size", "function_arn", "function_request_id",
                        "sampling_rate", "correlation_id", "tracking_id"})


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with `mask` applied to the finished line. Objects that JSON
    cannot hold (the exception in `stack_trace`, anything passed as an extra) are masked as text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(json_default=lambda obj: mask_text(str(obj)), **kwargs)

    def serialize(self, log: Any) -> str:
        return super().serialize({k: (v if k in _SAFE_KEYS else mask(v)) for k, v in dict(log).items()})


logger = Logger(service=SERVICE, logger_formatter=MaskingFormatter())
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

_PATTERNS = [
    (NIK_LIKE, "[NIK]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[EMAIL]"),
    (re.compile(r"(?<![\w])(?:\+?62|0)8[\d\s\-]{7,14}\d"), "[PHONE]"),
]
_SENSITIVE_KEYS = {"nik", "phone", "email", "name", "reporter", "access_token", "authorization", "x-access-token",
                   "contact"}


def mask_text(text: str) -> str:
    text = normalise(text)  # a zero-width space inside a NIK must not let it through
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: ("[REDACTED]" if str(k).lower() in _SENSITIVE_KEYS else mask(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(v) for v in value]
    if isinstance(value, BaseException):
        return mask_text(f"{type(value).__name__}: {value}")
    return value


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class PersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.msg) if isinstance(record.msg, (str, dict, list)) else record.msg
        if record.args:
            record.args = tuple(mask(a) for a in record.args) if isinstance(record.args, tuple) else mask(record.args)
        for key in set(record.__dict__) - _STANDARD:  # the `extra=` keys
            if key.lower() in _SENSITIVE_KEYS:
                record.__dict__[key] = "[REDACTED]"
            else:
                record.__dict__[key] = mask(record.__dict__[key])
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


_filter = PersonalDataFilter()
for _handler in logger.handlers:
    _handler.addFilter(_filter)
logger.addFilter(_filter)


# -- module loggers: the same handler, the same mask ----------------------------------------------
# `logging.getLogger(__name__)` in chalicelib/* writes JSON through the Powertools handler. In
# Lambda the records stop there: the runtime's root handler would print them a second time, with
# an exception's traceback unmasked. (Chalice's own `app.log` is the logger named lapor-kbb: the
# Powertools one.) Off Lambda they also reach the root logger, for pytest's caplog and the pump.
_modules = logging.getLogger("chalicelib")
for _handler in logger.handlers:
    if _handler not in _modules.handlers:
        _modules.addHandler(_handler)
_modules.setLevel(logging.INFO)
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    _modules.propagate = False
    logging.getLogger(SERVICE).propagate = False

# The SDKs log whole requests and answers at DEBUG (PynamoDB: every item's attributes; botocore:
# request bodies), unmasked and to the root handler. An operator turning the function's log level
# to DEBUG (Lambda's log-level control sets the root logger) must not print reporters' data.
for _sdk in ("pynamodb", "botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_sdk).setLevel(logging.INFO)


# -- correlation ----------------------------------------------------------------------------------
def correlate(tracking_id: str | None) -> None:
    """Every following log line of this invocation carries `correlation_id` = the tracking id."""
    logger.set_correlation_id(tracking_id)


# -- the access log -------------------------------------------------------------------------------
ACCESS_LOG = "staff access"
_ACCESS_FILTERS = ("status", "opd_code", "kecamatan", "cursor")


def access(what: str, *, sub: str, role: str, rows: int, tracking_id: str | None = None,
           filters: dict[str, Any] | None = None, fields: tuple[str, ...] | list[str] = (),
           attachment_id: str | None = None) -> None:
    """One line for every staff read that shows a reporter's identity and every export (UU PDP
    accountability): who (sub, role), which report or which filters, how many rows, and which
    kinds of data (`fields`: e.g. "contact", "nik"): never the data itself."""
    record: dict[str, Any] = {"what": what, "sub": sub, "role": role, "rows": rows, "fields": sorted(fields)}
    if tracking_id is not None:
        record["tracking_id"] = tracking_id
    if attachment_id is not None:
        record["attachment_id"] = attachment_id
    if filters is not None:
        record["filters"] = {k: (bool(v) if k == "cursor" else v) for k, v in filters.items()
                             if k in _ACCESS_FILTERS and v is not None}
    logger.info(ACCESS_LOG, extra={"access": record})


# -- metrics --------------------------------------------------------------------------------------
# The business metrics (namespace LaporKBB, dimension service=lapor-kbb): the alarms and the
# dashboard (infra/operations.yaml, infra/package.py) read exactly these names.
METRICS = frozenset({"ReportsSubmitted", "ReportsForwarded", "ReportsAnswered", "SlaBreaches",
                     "Sp4nSynced", "Sp4nFailed", "NotificationsSent"})
OPEN_REPORTS = "OpenReports"  # gauge with dimension `status`


def count(metric: str, n: int = 1) -> None:
    """Count `n` of a business metric; sent (EMF, in the log) when the handler ends."""
    from aws_lambda_powertools.metrics import MetricUnit

    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: one of {sorted(METRICS)}")
    if n:
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=n)


def open_reports(by_status: dict[str, int]) -> None:
    """Publish the open-work gauge now: one EMF line per status (dimension `status`)."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    for status, value in sorted(by_status.items()):
        with single_metric(name=OPEN_REPORTS, unit=MetricUnit.Count, value=value, namespace=NAMESPACE,
                           default_dimensions={"service": SERVICE}) as metric:
            metric.add_dimension(name="status", value=status)


def flush() -> None:
    """Write the metrics counted so far (no line, no warning, when there are none)."""
    if metrics.metric_set:
        metrics.flush_metrics(raise_on_empty_metrics=False)


# -- one middleware for every handler -------------------------------------------------------------
def middleware(event: Any, get_response: Any) -> Any:
    """Registered for "all" event types in app.py: a clean correlation id per invocation (the
    tracking id when the route has one), and the metrics flushed however the handler ends."""
    params = getattr(event, "uri_params", None) or {}
    correlate(params.get("tracking_id") if isinstance(params, dict) else None)
    try:
        return get_response(event)
    finally:
        flush()
        correlate(None)
