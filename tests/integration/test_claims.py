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


def test_an_events_fresh_keys_are_claimed_in_one_write_and_done_in_one(claims: Any, aws_calls: Any) -> None:
    held = claims.acquire_new(["n1#a", "n1#b", "n1#c"], 60)
    assert held is not None and [c.key for c in held] == ["n1#a", "n1#b", "n1#c"]
    assert dict(aws_calls) == {"dynamodb.TransactWriteItems": 1}
    with pytest.raises(claims.Busy):
        claims.acquire("n1#b", 60)  # held, as after acquire
    aws_calls.clear()
    claims.complete_all([(c, {"provider_id": f"p-{i}"}) for i, c in enumerate(held)])
    assert dict(aws_calls) == {"dynamodb.TransactWriteItems": 1}
    for key in ("n1#a", "n1#b", "n1#c"):
        assert claims.acquire(key, 60) is None  # done: a redelivery skips it
    assert claims.get("n1#c").response["provider_id"] == "p-2"


def test_one_existing_key_claims_none_of_an_events_keys(claims: Any) -> None:
    assert claims.complete(claims.acquire("n2#b", 60))
    assert claims.acquire_new(["n2#a", "n2#b"], 60) is None
    assert claims.get("n2#a") is None  # nothing half-written: the caller goes key by key
    assert claims.acquire_new(["n2#c", "n2#c"], 60) is None  # one item twice cannot share a transaction


def test_a_lost_lease_in_a_batch_completion_leaves_that_claim_to_its_new_holder(
        claims: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    held = claims.acquire_new(["n3#a", "n3#b"], 60)
    now = claims._now()
    monkeypatch.setattr(claims, "_now", lambda: now + 61)
    successor = claims.acquire("n3#b", 60)  # the first holder's lease ran out
    claims.complete_all([(c, {}) for c in held])
    assert claims.acquire("n3#a", 60) is None  # done
    assert claims.get("n3#b").state == claims.IN_PROGRESS  # still the successor's
    assert claims.complete(successor)
