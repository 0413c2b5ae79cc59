"""boto3 clients, created on first use and cached per container (cold start pays only for what runs)."""
from __future__ import annotations

import threading
from functools import cache
from typing import Any

from chalicelib.config import settings

_local = threading.local()


def botocore_session() -> Any:
    """ONE botocore session per thread for every client: boto3's here and PynamoDB's (every model's
    connection, see chalicelib/data/models.py). Each session parses botocore's endpoint and service
    data anew, so a session per PynamoDB model made the first call through each model costly
    (README, "How the cold start got there"). Per thread, because creating clients from one session
    is not thread-safe (chalice local serves requests on threads; Lambda uses one)."""
    session = getattr(_local, "session", None)
    if session is None:
        from botocore.session import get_session

        session = _local.session = get_session()
    return session


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
    # One boto3 Session per thread over that botocore session: each new Session registers boto3's
    # handlers on it again, and the S3 client then refuses to build.
    session = getattr(_local, "boto3", None)
    if session is None:
        session = _local.boto3 = boto3.Session(botocore_session=botocore_session())
    return session.client(service, region_name=settings().region, config=config)


def reset() -> None:
    """Forget this thread's clients and session (tests: a session made before moto was imported
    never sees moto's handler, and would send every later test's calls to AWS)."""
    client.cache_clear()
    _local.__dict__.clear()
