"""The collector during a cold start: the imports and the first event make objects that live as
long as the container (modules, clients, service models), so until the first event is answered
the collector runs rarely; then what is alive is frozen and the usual thresholds come back."""
from __future__ import annotations

import gc
from typing import Any

# A cold start makes tens of thousands of objects that all stay alive, and almost no cyclic
# garbage: at the usual threshold the young generation is scanned scores of times to free nothing.
_COLD_THRESHOLD = 100_000
_usual: tuple[int, ...] = ()


def begin() -> None:
    """Called first thing in app.py."""
    global _usual
    if not _usual:
        _usual = gc.get_threshold()
        gc.set_threshold(_COLD_THRESHOLD, *_usual[1:])


def middleware(event: Any, get_response: Any) -> Any:
    """Registered for "all" events: after the container's first, freeze and collect as usual."""
    try:
        return get_response(event)
    finally:
        end()


def end() -> None:
    global _usual
    usual, _usual = _usual, ()  # chalice local serves on threads: the first to end does it
    if usual:
        gc.freeze()
        gc.set_threshold(*usual)
