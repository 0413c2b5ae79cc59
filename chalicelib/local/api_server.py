"""`chalice local` with a listen backlog that API Gateway would not refuse:
`python -m chalicelib.local.api_server local --port 8000 ...` takes chalice's own arguments.

chalice local's server keeps socketserver's default backlog of 5 pending connections: 20 clients
connecting at once got connection resets before the app saw their requests, where API Gateway
would have queued them. Nothing else changes.
"""
from __future__ import annotations

import sys

from chalice import local
from chalice.cli import main

local.ThreadedHTTPServer.request_queue_size = 128

if __name__ == "__main__":
    sys.argv[0] = "chalice"
    sys.exit(main())
