"""Polling until a deadline: the loop the local stack waits with (for a process to be ready, for
ports to be released, for the pipeline to drain).

:func:`until_deadline` drives the loop; the caller's body checks and returns (or breaks) when
what it waits for has happened, and the code after the loop is the timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator


def until_deadline(
    *,
    timeout: float,
    interval: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[int]:
    """Yield attempt numbers (0, 1, ...): the first at once, each next one ``interval`` seconds
    after the caller's check found nothing, as long as fewer than ``timeout`` seconds have passed
    since the first. The deadline is checked after each attempt, so there is always one."""
    deadline = clock() + timeout
    attempt = 0
    while True:
        yield attempt
        if clock() >= deadline:
            return
        sleep(interval)
        attempt += 1
