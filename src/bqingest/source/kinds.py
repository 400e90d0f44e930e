"""What the source meant a message to be: the kind it records in the ledger with each message.

Its own module, apart from the generator that chooses kinds: the ledger stores them, and
reconcile (operations), the local stack's display and the source's metrics count by them, and
none of those needs the generator.
"""

from __future__ import annotations

from enum import StrEnum


class MessageKind(StrEnum):
    """What the source meant a message to be (recorded in the ledger)."""

    VALID = "valid"
    MALFORMED = "malformed"
    DUPLICATE = "duplicate"
