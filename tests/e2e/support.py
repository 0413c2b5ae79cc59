"""What the stack tests share: starting a stack, waiting on it, running the CLI against it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from chalicelib.local.stack import LocalStack, Ports

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def running_stack(state_dir: Path, log_dir: Path, rate_limit: str | None = None) -> Iterator[LocalStack]:
    """A whole local stack on free ports; the pump's own SLA schedule is off (an hour): tests run
    the check themselves. `rate_limit` ("N/seconds") for each per-client limit, else the defaults."""
    s = LocalStack(ports=Ports.free(), state_dir=state_dir, log_dir=log_dir, sla_interval=3600, with_web=False)
    try:
        with pytest.MonkeyPatch.context() as mp:  # the stack's processes inherit the environment
            if rate_limit:
                for scope in ("REPORTS", "ATTACHMENTS", "LOOKUPS", "STATS", "RECOVERY"):
                    mp.setenv(f"RATE_LIMIT_{scope}", rate_limit)
            s.start()
        yield s
    finally:
        s.stop()


def wait_for(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition",
             interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def cli(stack: LocalStack, *args: str) -> str:
    """`python -m chalicelib.cli ...` as an operator runs it: given only the state dir, it must find
    the stack's endpoint and tables in stack.env.json (nothing of this process's AWS settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in stack.env}
    env["LAPOR_STATE_DIR"] = str(stack.state_dir)
    out = subprocess.run([sys.executable, "-m", "chalicelib.cli", *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout
