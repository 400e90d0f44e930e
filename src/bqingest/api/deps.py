"""FastAPI dependencies, as ``Annotated`` aliases: the controllers and the access checks.

The controllers are built once per app by :func:`bqingest.api.main.create_app` (tests give it
fakes of the warehouse and the publisher there) and read from the app's state. All dependencies
are ``async def``: a plain ``def`` would cost a thread hop on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from bqingest.api.controllers.events import EventsController
from bqingest.api.controllers.probes import ProbesController
from bqingest.api.controllers.publishing import PublishController
from bqingest.api.security import API_KEY_HEADER, ApiKeys


@dataclass(frozen=True)
class Controllers:
    """What the routes reach, held by ``app.state.controllers``."""

    events: EventsController
    publishing: PublishController
    probes: ProbesController
    api_keys: ApiKeys
    public_read: bool


# Each dependency reads the controllers from the request rather than from a shared dependency:
# every node FastAPI solves costs microseconds on every request, and the cached by-id path is
# measured against a bare endpoint (benchmarks/bench_api.py).


def _controllers(request: Request) -> Controllers:
    controllers: Controllers = request.app.state.controllers
    return controllers


def events_controller(request: Request) -> EventsController:
    """The events controller, for routes that take it from the request rather than as a
    dependency (the by-id routes: ``bqingest.api.routes.events``)."""
    return _controllers(request).events


async def get_events_controller(request: Request) -> EventsController:
    return _controllers(request).events


EventsControllerDep = Annotated[EventsController, Depends(get_events_controller)]


async def get_publish_controller(request: Request) -> PublishController:
    return _controllers(request).publishing


PublishControllerDep = Annotated[PublishController, Depends(get_publish_controller)]


async def get_probes_controller(request: Request) -> ProbesController:
    return _controllers(request).probes


ProbesControllerDep = Annotated[ProbesController, Depends(get_probes_controller)]

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="An API key (its sha256 digest is in BQINGEST_API_KEYS). "
    "Required for POST; for reads unless BQINGEST_PUBLIC_READ is true.",
)
ApiKeyDep = Annotated[str | None, Security(api_key_header)]


async def require_read_access(request: Request, api_key: ApiKeyDep) -> None:
    """Reads are open when ``public_read``; otherwise they need a valid key (401/403)."""
    controllers = _controllers(request)
    if not controllers.public_read:
        controllers.api_keys.check(api_key)


async def require_write_access(request: Request, api_key: ApiKeyDep) -> None:
    """Writes always need a valid key (401 without one, 403 with a wrong one)."""
    _controllers(request).api_keys.check(api_key)


ReadAccess: Any = Depends(require_read_access)
WriteAccess: Any = Depends(require_write_access)
