"""Claims (chalicelib/data/claims.py): exactly-once effects over an at-least-once queue."""
from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def claims(aws: dict[str, str]) -> Any:
    from chalicelib.data import claims

    return claims


def test_a_fresh_key_is_one_conditional_write(claims: Any, aws_calls: Any) -> None:
    claim = claims.acquire("notify#KBB-AAAA-BBBB#1#opd", 60)
    assert claim is not None and not claim.taken_over and claim.data == {}
    assert dict(aws_calls) == {"dynamodb.PutItem": 1}


def test_a_held_claim_makes_a_duplicate_wait(claims: Any) -> None:
    claims.acquire("k1", 60)
    with pytest.raises(claims.Busy):
        claims.acquire("k1", 60)


def test_a_done_key_is_skipped(claims: Any) -> None:
    claim = claims.acquire("k2", 60)
    assert claims.complete(claim, message_id="m-1")
    assert claims.acquire("k2", 60) is None


def test_a_released_claim_is_taken_over_with_what_was_known(claims: Any) -> None:
    claim = claims.acquire("k3", 60)
    claims.note(claim, sent=True)
    assert claims.release(claim, error="timeout")
    again = claims.acquire("k3", 60)
    assert again is not None and again.taken_over and again.data == {"sent": True, "error": "timeout"}
    assert not claims.complete(claim)  # the old holder cannot finish it any more
    assert claims.complete(again)


def test_an_expired_lease_is_taken_over(claims: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    claim = claims.acquire("k4", 60)
    now = claims._now()
    monkeypatch.setattr(claims, "_now", lambda: now + 61)
    again = claims.acquire("k4", 60)
    assert again is not None and again.taken_over
    with pytest.raises(claims.Busy):
        claims.note(claim, late=True)
