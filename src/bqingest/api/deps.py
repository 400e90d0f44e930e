"""FastAPI dependencies, as ``Annotated`` aliases: the seams tests override.

``app.dependency_overrides[get_warehouse] = lambda: FakeWarehouse(...)`` swaps the warehouse
for one test without patching anything; the same works for the publisher and the settings
seen by the routes. All are ``async def``: a plain ``def`` dependency would cost a thread hop.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from bqingest.api.controllers.events import EventsController
from bqingest.api.controllers.health import HealthController
from bqingest.api.runtime import ApiRuntime
from bqingest.api.security import API_KEY_HEADER
from bqingest.api.warehouse import EventPublisher, Warehouse
from bqingest.config import Settings


def _runtime(request: Request) -> ApiRuntime:
    runtime: ApiRuntime = request.app.state.runtime
    return runtime


# Each dependency reads the runtime from the request rather than from a shared dependency:
# every node FastAPI solves costs microseconds on every request, and the cached by-id path is
# measured against a bare endpoint (benchmarks/bench_api.py).


async def get_settings(request: Request) -> Settings:
    return _runtime(request).settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_warehouse(request: Request) -> Warehouse:
    return _runtime(request).warehouse


WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]


async def get_publisher(request: Request) -> EventPublisher:
    return _runtime(request).publisher


PublisherDep = Annotated[EventPublisher, Depends(get_publisher)]


async def get_events_controller(request: Request, warehouse: WarehouseDep) -> EventsController:
    return EventsController(runtime=_runtime(request), warehouse=warehouse)


EventsControllerDep = Annotated[EventsController, Depends(get_events_controller)]


async def get_health_controller(
    request: Request, warehouse: WarehouseDep, publisher: PublisherDep
) -> HealthController:
    return HealthController(runtime=_runtime(request), warehouse=warehouse, publisher=publisher)


HealthControllerDep = Annotated[HealthController, Depends(get_health_controller)]

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="An API key (its sha256 digest is in BQINGEST_API_KEYS). "
    "Required for POST; for reads unless BQINGEST_PUBLIC_READ is true.",
)
ApiKeyDep = Annotated[str | None, Security(api_key_header)]


async def require_read_access(request: Request, api_key: ApiKeyDep) -> None:
    """Reads are open when ``public_read``; otherwise they need a valid key (401/403)."""
    runtime = _runtime(request)
    if not runtime.settings.public_read:
        runtime.api_keys.check(api_key)


async def require_write_access(request: Request, api_key: ApiKeyDep) -> None:
    """Writes always need a valid key (401 without one, 403 with a wrong one)."""
    _runtime(request).api_keys.check(api_key)


ReadAccess: Any = Depends(require_read_access)
WriteAccess: Any = Depends(require_write_access)
