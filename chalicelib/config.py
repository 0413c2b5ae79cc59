"""Settings read from the environment, once per process.

Resource names come from the CloudFormation outputs of infra/resources.yaml: in AWS the merged
template injects them into every function's environment; locally chalicelib.local.stack reads
them from the stack it created in moto. Either way the names cannot drift from the template.
"""
from __future__ import annotations

import os
from functools import lru_cache
from typing import NamedTuple


def _csv(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(",") if v.strip())


# Stages in which local stand-ins may be used (the local JWT verifier, an http SP4N stand-in, a
# per-process cursor key): the local stack and the test harness, which both set STAGE themselves.
LOCAL_STAGES = frozenset({"local", "test"})


class Settings(NamedTuple):
    # Unset is no stage at all, never "local": a function deployed without STAGE must not fall
    # back to the local stand-ins (fail closed). chalicelib.local.stack sets STAGE=local.
    stage: str = ""
    region: str = "ap-southeast-3"
    reports_table: str = "lapor-kbb-local-reports"
    events_table: str = "lapor-kbb-local-events"
    idempotency_table: str = "lapor-kbb-local-idempotency"
    reference_table: str = "lapor-kbb-local-reference"
    performance_table: str = "lapor-kbb-local-performance"
    attachments_table: str = "lapor-kbb-local-attachments"
    nik_key_id: str = "alias/lapor-kbb-local-nik"
    quarantine_bucket: str = "lapor-kbb-local-quarantine"
    attachments_bucket: str = "lapor-kbb-local-attachments"
    events_topic_arn: str = ""
    web_origins: tuple[str, ...] = ()
    # Number of write shards of the open-work-by-due-time index (see docs/DESIGN.md).
    due_shards: int = 4
    max_body_bytes: int = 64 * 1024
    # Abuse limits per client (chalicelib/domain/ratelimit.py): "<requests>/<seconds>" or "off".
    rate_limit_reports: str = "10/600"
    rate_limit_attachments: str = "30/600"
    rate_limit_lookups: str = "120/600"  # every X-Access-Token route: GET, replies, feedback, files
    rate_limit_stats: str = "60/60"  # the public /stats (answered from a per-container cache)
    rate_limit_sms: str = "20/3600"  # inbound SMS per sending number; past it nothing is answered
    # Inbound WhatsApp messages per number: a whole chat with photos takes about 15.
    rate_limit_whatsapp: str = "60/3600"
    # "Lupa kode akses": requests and confirmations per client, and codes sent per report (only a
    # request whose contact matches spends the report's budget; docs/PRIVACY.md argues both).
    rate_limit_recovery: str = "10/900"
    rate_limit_recovery_sends: str = "5/86400"
    # The first month (WIB) the service took reports: /stats answers this month to the current one.
    service_start: str = "2025-01"
    # Who the client is: API Gateway's requestContext.identity.sourceIp by default. Behind
    # CloudFront that is CloudFront's address, so name the header CloudFront sets (e.g.
    # "cloudfront-viewer-address") -- only when the API answers nothing but CloudFront, or a
    # client could write the header itself and choose its own identity.
    client_ip_header: str = ""


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@lru_cache(maxsize=1)
def settings() -> Settings:
    d = Settings()
    stage = _env("STAGE", d.stage).strip()
    return Settings(
        stage=stage,
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", d.region)),
        reports_table=_env("REPORTS_TABLE", d.reports_table),
        events_table=_env("EVENTS_TABLE", d.events_table),
        idempotency_table=_env("IDEMPOTENCY_TABLE", d.idempotency_table),
        reference_table=_env("REFERENCE_TABLE", d.reference_table),
        performance_table=_env("PERFORMANCE_TABLE", d.performance_table),
        attachments_table=_env("ATTACHMENTS_TABLE", d.attachments_table),
        nik_key_id=_env("NIK_KEY_ID", d.nik_key_id),
        quarantine_bucket=_env("QUARANTINE_BUCKET", d.quarantine_bucket),
        attachments_bucket=_env("ATTACHMENTS_BUCKET", d.attachments_bucket),
        events_topic_arn=_env("EVENTS_TOPIC_ARN", d.events_topic_arn),
        # WEB_URL: the web client's CloudFront address, an output of the deployed stack.
        web_origins=_csv(_env("WEB_ORIGINS", "http://127.0.0.1:8080,http://localhost:8080") + ","
                         + _env("WEB_URL", "").rstrip("/")),
        due_shards=int(_env("DUE_SHARDS", str(d.due_shards))),
        max_body_bytes=int(_env("MAX_BODY_BYTES", str(d.max_body_bytes))),
        rate_limit_reports=_env("RATE_LIMIT_REPORTS", d.rate_limit_reports),
        rate_limit_attachments=_env("RATE_LIMIT_ATTACHMENTS", d.rate_limit_attachments),
        rate_limit_lookups=_env("RATE_LIMIT_LOOKUPS", d.rate_limit_lookups),
        rate_limit_stats=_env("RATE_LIMIT_STATS", d.rate_limit_stats),
        rate_limit_sms=_env("RATE_LIMIT_SMS", d.rate_limit_sms),
        rate_limit_whatsapp=_env("RATE_LIMIT_WHATSAPP", d.rate_limit_whatsapp),
        rate_limit_recovery=_env("RATE_LIMIT_RECOVERY", d.rate_limit_recovery),
        rate_limit_recovery_sends=_env("RATE_LIMIT_RECOVERY_SENDS", d.rate_limit_recovery_sends),
        service_start=_env("SERVICE_START_MONTH", _env("LIST_FIRST_MONTH", d.service_start)),
        client_ip_header=_env("CLIENT_IP_HEADER", d.client_ip_header).lower(),
    )


def reset() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    settings.cache_clear()
