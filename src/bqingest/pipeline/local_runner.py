"""The local runner, tuned where it costs the pipeline most: idle Pub/Sub pulls, DoFn lookups.

Both are patches of this process only, installed by :func:`install` when the pipeline runs on
``BundleBasedDirectRunner`` (:func:`bqingest.pipeline.main.run`); Dataflow runs neither code
path. They are tied to the pinned Apache Beam (2.77) and checked by the unit tests and by the
integration tests that run the pipeline.

**Idle pulls.** The runner reads Pub/Sub with ``Pull(max_messages=10, timeout=30)`` on its only
worker thread, and nothing else runs until that call returns. The emulator answers a pull on an
empty subscription one second before its deadline, so whenever the input goes quiet the runner
is blocked for 29 s: no processing-time timer fires, and the rows the sink holds for a batch
wait that long (measured on the emulator: an idle pull with ``timeout=30`` returned after
29.2 s, with ``timeout=1.2`` after 0.26 s, with ``timeout=1.5`` after 0.51 s; a message
published during a pull was returned at once). :func:`poll_briefly` caps the deadline of every
``Pull`` at :data:`PULL_TIMEOUT_SECONDS`: an idle pull returns after about 0.3 s, a pull that
finds messages as soon as it does, as before. A pull that misses its deadline returns no
messages (whatever the emulator had handed out is redelivered after its ack deadline).

**DoFn lookups.** For every bundle, and several times per bundle for a stateful DoFn (to decide
whether to run it serially, to build its state context, its runner, its timers), the runner asks
Beam which state and timers a DoFn declares, and each answer inspects the signature of every
method of the DoFn, about forty. Profiled on this pipeline: 47 % of its time. A DoFn declares
its state and timers as defaults of its class's methods, so :func:`cache_dofn_specs` keeps the
answer per class (no DoFn of this pipeline sets methods per instance).
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Final

import google.cloud.pubsub_v1 as pubsub_v1
from apache_beam.runners.direct import transform_evaluator
from apache_beam.transforms import userstate
from google.api_core import exceptions
from google.api_core.gapic_v1.method import DEFAULT
from google.pubsub_v1 import types

PULL_TIMEOUT_SECONDS: Final = 1.25
"""The deadline every pull gets (the runner asks for 30 s)."""


def install() -> None:
    """Both patches (idempotent): what the local pipeline, and its benchmarks, run with."""
    poll_briefly()
    cache_dofn_specs()


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


def cache_dofn_specs() -> None:
    """Answer "which state and timers does this DoFn declare?" once per DoFn class (idempotent).

    Replaces ``apache_beam.transforms.userstate.get_dofn_specs`` where the direct runner calls it
    (the module's own ``is_stateful_dofn`` reads the module's name, ``transform_evaluator``
    imported its own). Every caller gets fresh sets, as from the original.
    """
    if getattr(userstate.get_dofn_specs, "_bqingest_cached", False):
        return
    original = userstate.get_dofn_specs
    answers: dict[type, tuple[frozenset[Any], frozenset[Any]]] = {}
    lock = threading.Lock()

    @functools.wraps(original)
    def get_dofn_specs(dofn: Any) -> tuple[set[Any], set[Any]]:
        kind = type(dofn)
        answer = answers.get(kind)
        if answer is None:
            states, timers = original(dofn)
            with lock:
                answer = answers.setdefault(kind, (frozenset(states), frozenset(timers)))
        return set(answer[0]), set(answer[1])

    get_dofn_specs._bqingest_cached = True  # type: ignore[attr-defined]
    userstate.get_dofn_specs = get_dofn_specs
    transform_evaluator.get_dofn_specs = get_dofn_specs  # type: ignore[attr-defined]
