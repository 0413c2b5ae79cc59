"""Logger and metrics for every function: JSON logs with personal data masked, EMF metrics.

Personal data (NIK, phone, email, names) must never reach CloudWatch: the filter below rewrites
every record, so a careless log call cannot leak, and callers never log reporter fields anyway.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics

SERVICE = "lapor-kbb"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace="LaporKBB", service=SERVICE)

_PATTERNS = [
    (re.compile(r"(?<!\d)[1-9]\d{15}(?!\d)"), "[NIK]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[EMAIL]"),
    (re.compile(r"(?<![\w])(?:\+?62|0)8[\d\s\-]{7,14}\d"), "[PHONE]"),
]
_SENSITIVE_KEYS = {"nik", "phone", "email", "name", "reporter", "access_token", "authorization", "x-access-token"}


def mask_text(text: str) -> str:
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
