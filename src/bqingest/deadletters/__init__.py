"""Dead letters: list, show and replay the messages the pipeline rejected.

``replay`` holds the logic (queries and the claim-then-publish replay), ``command`` the
``bqingest deadletters`` sub-commands' wiring and output.
"""

from bqingest.deadletters.replay import (
    REPLAY_ATTRIBUTE,
    DeadLetter,
    Fix,
    ReplayError,
    ReplayResult,
    Selection,
    list_dead_letters,
    replay,
)

__all__ = [
    "REPLAY_ATTRIBUTE",
    "DeadLetter",
    "Fix",
    "ReplayError",
    "ReplayResult",
    "Selection",
    "list_dead_letters",
    "replay",
]
