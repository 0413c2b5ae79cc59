"""moto in server mode, with DynamoDB's atomicity: `python -m chalicelib.local.moto_server -p 5000`.

DynamoDB applies each request (an UpdateItem with its condition, a whole TransactWriteItems)
atomically. moto's threaded server does not: its TransactWriteItems deep-copies every table it
touches and, when any condition fails, puts the copies back, undoing whatever other requests wrote
in between; a conditional UpdateItem evaluates and writes in separate steps. Under concurrent
requests (chalice local is threaded) that loses writes and lets a rate limit admit more than its
limit: failures of the stand-in, not of the code under test. One lock around every DynamoDB and
DynamoDB Streams request restores the guarantee the code relies on in AWS. The other services run
unlocked.
"""
from __future__ import annotations

import functools
import sys
import threading
from typing import Any

_LOCK = threading.RLock()
_installed = False


def install() -> None:
    """Serialise moto's DynamoDB request handling in this process (idempotent). Also usable in
    process with mock_aws, for tests that drive DynamoDB from several threads."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action

        @functools.wraps(original)
        def locked(self: Any, _original: Any = original) -> Any:
            with _LOCK:
                return _original(self)

        handler.call_action = locked  # type: ignore[method-assign]
    _installed = True


def main(argv: list[str]) -> None:
    install()
    from moto.server import main as moto_main

    moto_main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
