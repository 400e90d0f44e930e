"""Replaying dead letters (fixed or not) through the main topic, once each.

The queries (list, claim, release) are :mod:`bqingest.warehouse.dead_letters`'; everything works
per ``dead_letter_id`` (one message at one stage). Replaying is claim, then publish:

1. **claim**: one ``UPDATE`` sets ``replayed_at`` to this replay's own timestamp on every row of
   the selected ids that no earlier replay has claimed, and the rows carrying that timestamp are
   the ones this replay owns (a concurrent replay cannot own the same id);
2. **publish** each owned message to the main topic with its original attributes (plus
   ``bqingest-replay-of`` = the dead letter id), its body replaced when a fix is given;
3. a message Pub/Sub refuses is **released** (``replayed_at`` back to NULL) and reported, so it
   can be replayed later.

So a dead letter is never republished twice. The cost: if the process dies between 1 and 2,
claimed messages are marked replayed without having been published; ``list --replayed`` shows
them, and the claim timestamp says which run claimed them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions
from google.cloud import bigquery

from bqingest.clock import utc_now
from bqingest.operations.errors import OperationsError
from bqingest.warehouse import dead_letters as queries
from bqingest.warehouse.dead_letters import Selection
from bqingest.warehouse.records import DeadLetter

REPLAY_ATTRIBUTE: Final = "bqingest-replay-of"


class ReplayError(OperationsError, ValueError):
    """A replay request that cannot be carried out as asked (nothing published)."""


def whole_body(letter: DeadLetter) -> bytes:
    """The message body as received: the row's ``raw_payload``, or, when the row holds only a
    prefix, the archived object (``payload_uri``; a directory locally, ``gs://`` in the cloud)."""
    if not letter.payload_truncated:
        return letter.raw_payload
    if not letter.payload_uri:
        raise ReplayError(
            f"dead letter {letter.dead_letter_id} keeps only the first {len(letter.raw_payload)} "
            f"of {letter.payload_bytes} bytes and its whole body was not archived "
            "(the pipeline ran without --dead_letter_payloads): replay it with --payload"
        )
    from bqingest.pipeline.archive import read_archived  # Beam's file systems: local, gs://

    body = read_archived(letter.payload_uri)
    if letter.payload_sha256 and hashlib.sha256(body).hexdigest() != letter.payload_sha256:
        raise ReplayError(
            f"the archived body of {letter.dead_letter_id} at {letter.payload_uri} does not match "
            "the SHA-256 its row recorded: it was changed after the pipeline wrote it"
        )
    return body


@dataclass(frozen=True)
class Fix:
    """How to change a message before republishing it."""

    payload: bytes | None = None
    set_attributes: Mapping[str, str] = field(default_factory=dict)
    drop_attributes: tuple[str, ...] = ()

    @property
    def changes_payload(self) -> bool:
        return self.payload is not None

    def apply(self, letter: DeadLetter) -> tuple[bytes, dict[str, str]]:
        attributes = {
            k: v for k, v in letter.attributes.items() if k not in set(self.drop_attributes)
        }
        attributes.update(self.set_attributes)
        attributes[REPLAY_ATTRIBUTE] = letter.dead_letter_id
        data = self.payload if self.payload is not None else whole_body(letter)
        return data, attributes


@dataclass
class ReplayResult:
    """What a replay did: published (dead letter id -> new message id), released on failure."""

    selected: list[DeadLetter] = field(default_factory=list)
    published: dict[str, str] = field(default_factory=dict)
    already_claimed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def replay(
    bq: bigquery.Client,
    publisher: pubsub_v1.PublisherClient,
    *,
    table: str,
    topic_path: str,
    selection: Selection,
    fix: Fix | None = None,
    dry_run: bool = False,
    clock: Callable[[], datetime] = utc_now,
    timeout: float = 60.0,
) -> ReplayResult:
    """Republish the selected dead letters that were never replayed (module docstring)."""
    if selection.is_empty:
        raise ReplayError("choose what to replay: --id, --reason, --stage or --since (or --all)")
    fix = fix or Fix()
    candidates = queries.list_dead_letters(
        bq, table=table, selection=replace(selection, include_replayed=False), timeout=timeout
    )
    if fix.changes_payload and len(candidates) != 1:
        raise ReplayError(
            f"a replacement payload applies to exactly one dead letter; the selection has "
            f"{len(candidates)}: select one with --id"
        )
    result = ReplayResult(selected=candidates)
    if dry_run or not candidates:
        return result

    claim = clock()
    ids = [letter.dead_letter_id for letter in candidates]
    queries.claim(bq, table=table, ids=ids, at=claim, timeout=timeout)
    owned = queries.claimed_by(bq, table=table, at=claim, timeout=timeout)
    result.already_claimed = [i for i in ids if i not in owned]

    futures = []
    for letter in candidates:
        if letter.dead_letter_id not in owned:
            continue
        data, attributes = fix.apply(letter)
        try:
            futures.append((letter, publisher.publish(topic_path, data, **attributes)))
        except (ValueError, exceptions.GoogleAPIError) as exc:
            result.failed[letter.dead_letter_id] = f"{type(exc).__name__}: {exc}"
    for letter, future in futures:
        try:
            result.published[letter.dead_letter_id] = future.result(timeout=timeout)
        except (exceptions.GoogleAPIError, TimeoutError) as exc:
            result.failed[letter.dead_letter_id] = f"{type(exc).__name__}: {exc}"
    if result.failed:
        queries.release(bq, table=table, ids=list(result.failed), at=claim, timeout=timeout)
    return result
