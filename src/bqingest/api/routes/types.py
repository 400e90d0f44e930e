"""HTTP of the types resource: the schema registry, read only.

Included before the events routes: ``/api/v1/types`` would otherwise be read as the event id
``types`` by ``/api/v1/{id}`` (that event stays reachable at ``/api/v1/events/types``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from bqingest.api.controllers.types import TypesController
from bqingest.api.deps import ReadAccess
from bqingest.api.errors import ERROR_RESPONSES
from bqingest.api.serializers.types import TypeList


async def types_controller(request: Request) -> TypesController:
    controller: TypesController = request.app.state.types_controller
    return controller


TypesControllerDep = Annotated[TypesController, Depends(types_controller)]


async def list_types(controller: TypesControllerDep) -> TypeList:
    return controller.list_types()


async def get_type(
    controller: TypesControllerDep,
    event_type: Annotated[
        str, Path(alias="type", max_length=200, description="The CloudEvents type.")
    ],
    version: Annotated[
        int | None, Query(ge=1, description="Major version (default: the current one).")
    ] = None,
) -> dict[str, Any]:
    return dict(controller.get_schema(event_type, version))


def router(*, public_read: bool) -> APIRouter:
    """The types routes (included before the events routes: module docstring)."""
    routes = APIRouter(tags=["types"], dependencies=[] if public_read else [ReadAccess])
    routes.add_api_route(
        "/api/v1/types",
        list_types,
        methods=["GET"],
        response_model=TypeList,
        summary="Registered event types, their versions and typed columns",
        responses={**ERROR_RESPONSES},
    )
    routes.add_api_route(
        "/api/v1/types/{type}",
        get_type,
        methods=["GET"],
        summary="A type's JSON Schema (draft 2020-12)",
        responses={**ERROR_RESPONSES, 404: {"description": "No such type or version."}},
    )
    return routes
