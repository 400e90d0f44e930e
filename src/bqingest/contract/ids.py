"""The one definition of what an event id may look like.

Used by the contract (pipeline side) and by the API's path parameters, so an id the pipeline
accepts is always one the API can look up, and anything else is refused before it reaches SQL.
"""

from __future__ import annotations

import re
from typing import Final

ID_PATTERN: Final = r"^[A-Za-z0-9._~:\-]{1,128}$"
_ID_RE: Final = re.compile(ID_PATTERN)

INVALID_ID_MESSAGE: Final = "id must be 1-128 letters, digits or ._~:- characters"
"""What a refused id is told, by the contract and by the API alike."""


def is_valid_id(value: str) -> bool:
    """Whether ``value`` is a well-formed event id: 1-128 letters, digits and ``._~:-``."""
    return _ID_RE.fullmatch(value) is not None
