"""boto3 clients, created on first use and cached per container (cold start pays only for what runs)."""
from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import settings


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Short timeouts and standard retries: a Lambda behind API Gateway has 29 s in all.
    config = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"})
    if service == "s3":
        # Virtual-hosted style makes presigned URLs name the regional endpoint; the default names the
        # legacy global one, which buckets in Regions opened after March 2019 (ap-southeast-3,
        # Jakarta) do not answer. A local IP endpoint (moto) still gets path style.
        config = config.merge(Config(signature_version="s3v4", s3={"addressing_style": "virtual"}))
    return boto3.client(service, region_name=settings().region, config=config)


def reset() -> None:
    client.cache_clear()
