"""Where the whole body of a dead letter too large for its row goes: a file per dead letter.

A dead-letter row holds at most :data:`~bqingest.contract.rows.DEAD_LETTER_PAYLOAD_BYTES` of the
body (one append request is at most 10 MB, and Pub/Sub takes messages of 10 MB). When the body is
longer, the writer stores it whole under ``<prefix>/<dead_letter_id>`` with Beam's file systems,
so the same code writes to a local directory (the local runner) and to ``gs://`` (Dataflow), and
records the object's URI in the row (``payload_uri``). The name is the dead letter's stable id, so
a redelivered message overwrites its own object with the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from apache_beam.io.filesystems import FileSystems


@dataclass(frozen=True)
class PayloadArchive:
    """Stores whole message bodies under ``prefix`` (a directory path or ``gs://bucket/path``)."""

    prefix: str

    def uri_of(self, dead_letter_id: str) -> str:
        return FileSystems.join(self.prefix, f"{dead_letter_id}.bin")

    def put(self, dead_letter_id: str, payload: bytes) -> str:
        """Write ``payload`` and return its URI (idempotent: same id, same bytes)."""
        uri = self.uri_of(dead_letter_id)
        if not uri.startswith("gs://") and not FileSystems.exists(self.prefix):
            FileSystems.mkdirs(self.prefix)
        with FileSystems.create(uri, mime_type="application/octet-stream") as handle:
            handle.write(payload)
        return uri


def read_archived(uri: str) -> bytes:
    """The whole body archived at ``uri``."""
    with FileSystems.open(uri, mime_type="application/octet-stream") as handle:
        data: bytes = handle.read()
    return data
