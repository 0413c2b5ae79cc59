"""AWS answered from a table, in process: botocore's HTTP send is replaced, nothing else.

Both sides of a CPU comparison then do everything a real call does -- build and validate the
request, serialise, sign, parse the answer -- except wait for the network, and neither moto nor a
socket is timed. Answers are keyed by operation (`dynamodb.TransactWriteItems`); each is a function
of the request, returning (status, body).
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlparse

Answer = Callable[[Mapping[str, Any]], tuple[int, Any]]


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


class _Payload(Mapping[str, Any]):
    """A JSON request body, decoded on first look: decoding it is the service's work, not the
    caller's, so an answer that never reads the request (ok()) must not charge it to either side."""

    def __init__(self, body: bytes | str) -> None:
        self._body = body
        self._decoded: dict[str, Any] | None = None

    def _data(self) -> dict[str, Any]:
        if self._decoded is None:
            self._decoded = json.loads(self._body) if self._body else {}
        return self._decoded

    def __getitem__(self, key: str) -> Any:
        return self._data()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data())

    def __len__(self) -> int:
        return len(self._data())


def _operation(request: Any) -> tuple[str, Mapping[str, Any]]:
    target = request.headers.get("X-Amz-Target")
    if isinstance(target, bytes):
        target = target.decode()
    body = request.body or b"{}"
    if hasattr(body, "read"):
        body = body.read()
    if target is None:  # query protocol (SES, SNS): a form body naming the Action
        form = {k: v[0] for k, v in parse_qs(body.decode() if isinstance(body, bytes) else body).items()}
        host = urlparse(request.url).hostname or ""
        service = {"email": "ses", "sns": "sns"}.get(host.split(".")[0], host.split(".")[0])
        return f"{service}.{form.get('Action')}", form
    service = {"DynamoDB_20120810": "dynamodb", "TrentService": "kms", "AmazonSQS": "sqs",
               "AmazonSimpleEmailServiceV2": "sesv2", "secretsmanager": "secretsmanager"}.get(
        str(target).split(".")[0], "?")
    return f"{service}.{str(target).split('.')[-1]}", _Payload(body)


class Calls(Counter[str]):
    """Calls per operation, and `seconds`: the CPU spent standing in for AWS (reading the request,
    making the answer). A CPU figure subtracts it: it is the service's work, and counting it would
    charge a side per call it makes rather than per work it does."""

    seconds = 0.0

    def clear(self) -> None:
        super().clear()
        self.seconds = 0.0


@contextmanager
def canned(answers: dict[str, Answer]) -> Iterator[Calls]:
    """Within the block every botocore request is answered from `answers`; yields the calls."""
    from botocore.awsrequest import AWSResponse
    from botocore.endpoint import Endpoint

    calls = Calls()
    original = Endpoint._send

    def send(self: Any, request: Any) -> Any:
        started = time.process_time()
        try:
            return answer(request)
        finally:
            calls.seconds += time.process_time() - started

    def answer(request: Any) -> Any:
        name, payload = _operation(request)
        if name not in answers:
            raise AssertionError(f"no canned answer for {name}")
        calls[name] += 1
        status, body = answers[name](payload)
        if isinstance(body, str):  # an XML answer of a query-protocol service
            return AWSResponse(request.url, status, {"Content-Type": "text/xml"}, _Raw(body.encode()))
        content_type = ("application/x-amz-json-1.1" if name.startswith(("kms", "sqs", "secretsmanager"))
                        else "application/x-amz-json-1.0")
        return AWSResponse(request.url, status, {"Content-Type": content_type}, _Raw(json.dumps(body).encode()))

    Endpoint._send = send
    try:
        yield calls
    finally:
        Endpoint._send = original


def ok(body: dict[str, Any] | None = None) -> Answer:
    return lambda _payload: (200, body or {})


def kms_generate_data_key(payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    plaintext = hashlib.sha256(json.dumps(dict(payload), sort_keys=True).encode()).digest()
    blob = base64.b64encode(b"\x01\x02\x03\x00" + plaintext + b"\x00" * 120).decode()
    return 200, {"CiphertextBlob": blob, "Plaintext": base64.b64encode(plaintext).decode(),
                 "KeyId": "arn:aws:kms:ap-southeast-3:000000000000:key/bench"}


def sqs_send(payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    # botocore checks the MD5 of the body that SQS echoes back.
    md5 = hashlib.md5(payload["MessageBody"].encode(), usedforsecurity=False).hexdigest()
    return 200, {"MessageId": "00000000-0000-0000-0000-000000000000", "MD5OfMessageBody": md5}


def xml_message_id(action: str, namespace: str) -> Answer:
    """SES SendEmail / SNS Publish: a MessageId in the query protocol's XML."""
    def answer(_payload: Mapping[str, Any]) -> tuple[int, Any]:
        return 200, (f'<{action}Response xmlns="{namespace}"><{action}Result><MessageId>bench-0001</MessageId>'
                     f"</{action}Result><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata>"
                     f"</{action}Response>")
    return answer


SES_SEND = xml_message_id("SendEmail", "http://ses.amazonaws.com/doc/2010-12-01/")
SNS_PUBLISH = xml_message_id("Publish", "http://sns.amazonaws.com/doc/2010-03-31/")
