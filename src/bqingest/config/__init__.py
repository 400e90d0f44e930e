"""Settings, one validated object per process, from ``BQINGEST_*`` variables or ``.env``.

Each process reads only its group: the shared :class:`CoreSettings` plus its own fields.

==========================  =====================================================================
class                       read by
==========================  =====================================================================
:class:`CoreSettings`       every process (names, endpoints, the message size limit)
:class:`ApiSettings`        ``bqingest api`` (the Cloud Run service)
:class:`PipelineSettings`   ``bqingest pipeline`` (on Dataflow the template's parameters instead)
:class:`SourceSettings`     ``bqingest source``
:class:`OperationsSettings` ``bootstrap``, ``reconcile`` (the cloud's job too), ``deadletters``
:class:`LocalSettings`      ``bqingest up`` and ``bqingest status``: every group, validated together
==========================  =====================================================================

Formats and bounds come from :mod:`bqingest.formats`, shared with the pipeline's options.
``docs/configuration.md`` is generated from the field descriptions (:mod:`.reference`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

from bqingest.config.api import ApiKeySpec, ApiSettings, UnsafeSettings
from bqingest.config.core import CoreSettings, Endpoints, Environment
from bqingest.config.local import LocalSettings
from bqingest.config.operations import OperationsSettings
from bqingest.config.pipeline import PipelineSettings
from bqingest.config.source import SourceSettings

S = TypeVar("S", bound=CoreSettings)


@lru_cache
def load(kind: type[S]) -> S:
    """The process's settings of one group, read and validated once (tests clear the cache)."""
    return kind()


__all__ = [
    "ApiKeySpec",
    "ApiSettings",
    "CoreSettings",
    "Endpoints",
    "Environment",
    "LocalSettings",
    "OperationsSettings",
    "PipelineSettings",
    "SourceSettings",
    "UnsafeSettings",
    "load",
]
