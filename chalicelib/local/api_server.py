"""`chalice local` with a listen backlog that API Gateway would not refuse:
`python -m chalicelib.local.api_server local --port 8000 ...` takes chalice's own arguments.

chalice local's server keeps socketserver's default backlog of 5 pending connections: 20 clients
connecting at once got connection resets before the app saw their requests, where API Gateway
would have queued them.

It also hands every other method (TRACE, QUERY, ...) to chalice's router like GET or PATCH: the base
HTTP server answered them with an HTML 501 of its own, a 5xx that the API fuzzing rightly flagged;
the router answers 405 in the contract's error shape. In AWS, API Gateway refuses these methods
before the function, so this changes nothing there.
"""
from __future__ import annotations

import sys
from typing import Any

from chalice import local
from chalice.cli import main

local.ThreadedHTTPServer.request_queue_size = 128


def _any_method(self: Any, name: str) -> Any:
    if name.startswith("do_"):
        return self._generic_handle
    raise AttributeError(name)


local.ChaliceRequestHandler.__getattr__ = _any_method  # type: ignore[attr-defined]

if __name__ == "__main__":
    sys.argv[0] = "chalice"
    sys.exit(main())
