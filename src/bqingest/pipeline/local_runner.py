"""The local runner's Pub/Sub reads, made to poll: what keeps its timers on time.

``BundleBasedDirectRunner`` reads Pub/Sub with ``Pull(max_messages=10, timeout=30)`` on its only
worker thread, and nothing else runs until that call returns. The emulator answers a pull on an
empty subscription one second before its deadline, so whenever the input goes quiet the runner is
blocked for 29 s: no processing-time timer fires, and the rows the sink holds for a batch wait
that long (measured on the emulator: an idle pull with ``timeout=30`` returned after 29.2 s, with
``timeout=1.2`` after 0.26 s, with ``timeout=1.5`` after 0.51 s; a message published during a
pull was returned at once).

:func:`poll_briefly` caps the timeout of every ``Pull`` this process makes, so an idle pull
returns after about :data:`IDLE_POLL_SECONDS` and the runner gets to its timers; a pull that
finds messages returns as soon as it does, as before. A pull that misses its deadline returns
no messages (whatever the emulator had handed out is redelivered after its ack deadline). Only
the local runner's process installs it (:func:`bqingest.pipeline.main.run`): it wraps the client
class, and Dataflow reads Pub/Sub its own way.
"""

from __future__ import annotations

import functools
from typing import Any, Final

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions
from google.api_core.gapic_v1.method import DEFAULT
from google.pubsub_v1 import types

PULL_TIMEOUT_SECONDS: Final = 1.25
"""The deadline every pull gets (the runner asks for 30 s)."""
IDLE_POLL_SECONDS: Final = 0.25
"""How long the emulator then holds a pull on an empty subscription (the deadline minus 1 s)."""


def poll_briefly() -> None:
    """Cap the deadline of ``SubscriberClient.pull`` in this process (idempotent)."""
    client = pubsub_v1.SubscriberClient
    if getattr(client.pull, "_bqingest_polls", False):
        return
    original = client.pull

    @functools.wraps(original)
    def pull(self: Any, *args: Any, timeout: Any = DEFAULT, **kwargs: Any) -> Any:
        if timeout is DEFAULT or timeout is None or timeout > PULL_TIMEOUT_SECONDS:
            timeout = PULL_TIMEOUT_SECONDS
        try:
            return original(self, *args, timeout=timeout, **kwargs)
        except exceptions.DeadlineExceeded:
            return types.PullResponse()

    pull._bqingest_polls = True  # type: ignore[attr-defined]
    client.pull = pull
