"""schemathesis against the local stack's own
/openapi.json, 15 cases per operation with a fixed seed, anonymously and per staff role; no 5xx, no
response outside the documented schema, status codes, content types and headers.
`make fuzz` runs the same with 100 cases per operation and every phase (tests/fuzz.py).

The stack is its own: admins' fuzzed calendar overrides and actions must not reach the shared
stack's other tests.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.local.stack import LocalStack
from tests import fuzz
from tests.e2e.support import running_stack

pytestmark = pytest.mark.xdist_group("fuzz_stack")

ARTIFACTS = Path("test-artifacts/fuzz-bounded")


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("fuzz-stack"), ARTIFACTS / "stack-logs", "1000000/600") as s:
        yield s


def test_fuzz_every_operation_anonymously_and_per_role(fuzz_stack: LocalStack) -> None:
    # The coverage and stateful phases are `make fuzz`'s: they generate hundreds of cases regardless
    # of --max-examples, minutes on two cores.
    result = fuzz.fuzz(fuzz_stack.api_url, fuzz_stack.state_dir, examples=15, seed_value=20260101,
                       report_dir=ARTIFACTS, phases="examples,fuzzing")
    failed = [run for run in result.runs if not run.ok]
    assert not failed, "\n\n".join(run.output[-6000:] for run in failed)
    assert [run.name for run in result.runs] == ["anonymous", "admin", "opd", "pimpinan"]
    assert all(run.generated >= 15 for run in result.runs), result.summary()
