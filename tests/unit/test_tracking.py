"""Tracking ids and access tokens (chalicelib/domain/tracking.py)."""
from __future__ import annotations

import re

from chalicelib.domain import tracking


def test_tracking_ids_have_the_spoken_shape_and_read_back() -> None:
    for _ in range(200):
        tid = tracking.new_tracking_id()
        assert re.fullmatch(r"KBB-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", tid)
        assert tracking.normalise_tracking_id(tid.lower().replace("-", "")) == tid


def test_every_position_uses_the_whole_alphabet() -> None:
    # 40 random bits over 8 characters: each position must draw all 32 symbols (a bias or a stuck
    # bit would leave some out); missing one in 4,000 draws by chance has odds below 1e-50.
    seen: list[set[str]] = [set() for _ in range(8)]
    for _ in range(4000):
        chars = tracking.new_tracking_id().replace("KBB-", "").replace("-", "")
        for i, c in enumerate(chars):
            seen[i].add(c)
    assert all(s == set(tracking._ALPHABET) for s in seen)


def test_ids_do_not_repeat() -> None:
    ids = {tracking.new_tracking_id() for _ in range(5000)}
    assert len(ids) == 5000  # 2**40 space: a repeat here would mean a broken generator


def test_tokens_match_only_their_hash() -> None:
    token = tracking.new_access_token()
    assert len(token) >= 32
    stored = tracking.hash_token(token)
    assert tracking.token_matches(token, stored)
    assert not tracking.token_matches(token + "x", stored)
    assert not tracking.token_matches(None, stored)
    assert not tracking.token_matches(token, None)
