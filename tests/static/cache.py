"""Where the static tests keep what is slow to make and never changes for given inputs.

Two things live here: the Terraform provider schemas (extracted once from a pinned PyPI
package) and the pipeline image's Python environment (built once from constraints.txt). Each
entry's name holds a hash of its inputs, so a stale entry is never reused, and a clean clone on
the same machine finds what an earlier run made. The directory is ``$STATIC_TESTS_CACHE``, else
``$XDG_CACHE_HOME/bqingest-tests``, else ``~/.cache/bqingest-tests``; deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def root() -> Path:
    explicit = os.environ.get("STATIC_TESTS_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bqingest-tests"


def directory(*parts: str) -> Path:
    path = root().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def digest(*texts: str | bytes) -> str:
    """A short, stable name for a set of inputs."""
    hashed = hashlib.sha256()
    for text in texts:
        hashed.update(text.encode() if isinstance(text, str) else text)
        hashed.update(b"\0")
    return hashed.hexdigest()[:16]
