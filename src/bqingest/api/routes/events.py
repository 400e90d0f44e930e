"""HTTP of the events resource: paths, status codes, headers, content negotiation.

:func:`router` builds an ``APIRouter`` with the routes in this order, which decides what a path
means: ``/api/v1/events`` (the listing), ``/api/v1/{id}`` (the original contract: one path
segment, so never ``events/...``), ``/api/v1/events/count``, then ``/api/v1/events/{id}``
(canonical by-id: it reaches an event whose id is ``events``; one whose id is ``count`` is read at
``/api/v1/count``, and the canonical path's documented pattern excludes it).

Parameters are declared the framework's way (``Path``, ``Query``, ``Header``), so FastAPI
validates and documents them. The cached by-id path is measured against a bare endpoint that
declares the same parameters on an ``APIRouter`` too (benchmarks/bench_api.py), so the ratio is
this project's own work. Two savings of our own stay: read routes get the ``ReadAccess``
dependency only when reads are not public (which also makes the OpenAPI document show the key as
required exactly when it is), and the by-id routes take their controller from the request
rather than as a dependency (each dependency FastAPI solves costs microseconds per request).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from bqingest.api.controllers.events import RenderedPage
from bqingest.api.deps import (
    EventsControllerDep,
    PublishControllerDep,
    ReadAccess,
    WriteAccess,
    events_controller,
)
from bqingest.api.errors import (
    ERROR_RESPONSES,
    ErrorBody,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from bqingest.api.routes.conditional import event_response
from bqingest.api.serializers.events import (
    EXAMPLE_RESPONSE,
    NDJSON,
    CanonicalEventIdPath,
    CountParams,
    CountResponse,
    EventIdPath,
    EventOut,
    EventPage,
    IfNoneMatchHeader,
    ListParams,
    PublishAccepted,
    SourceQuery,
)
from bqingest.contract import CloudEvent
from bqingest.contract.events import EXAMPLE_EVENT

EVENT_MEDIA_TYPES: Final = frozenset(
    {"application/json", "application/cloudevents+json", "application/cloudevents-batch+json"}
)

_AUTH_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    401: {"description": "No API key (X-API-Key)."},
    403: {"description": "The API key is not valid."},
}
_BY_ID_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    200: {
        "description": "The event. ETag and Cache-Control are set.",
        "content": {"application/json": {"example": EXAMPLE_RESPONSE}},
    },
    304: {"description": "Unchanged since the ETag in If-None-Match."},
    404: {"description": "No event with this id (from this source)."},
    409: {
        "model": ErrorBody,
        "description": "Events of several sources have this id (ids are unique per source): "
        "`choices` lists the sources; ask again with `?source=`.",
    },
}


def _wants_ndjson(request: Request) -> bool:
    return NDJSON in request.headers.get("accept", "")


def _link_header(request: Request, page: RenderedPage) -> dict[str, str]:
    if page.next_cursor is None:
        return {}
    url = request.url.include_query_params(cursor=page.next_cursor)
    return {"Link": f'<{url.path}?{url.query}>; rel="next"'}


async def list_events(
    params: Annotated[ListParams, Query()], request: Request, controller: EventsControllerDep
) -> Response:
    if _wants_ndjson(request):
        export = await controller.export_events(params)
        headers = {"X-Result-Count": str(export.total_rows)}
        return StreamingResponse(export.chunks, media_type=NDJSON, headers=headers)
    page = await controller.list_events(params)
    return Response(page.body, media_type="application/json", headers=_link_header(request, page))


async def count_events(
    params: Annotated[CountParams, Query()], controller: EventsControllerDep
) -> CountResponse:
    return await controller.count_events(params)


async def get_event(
    id: EventIdPath,
    request: Request,
    source: SourceQuery = None,
    if_none_match: IfNoneMatchHeader = None,
) -> Response:
    controller = events_controller(request)
    rendered = await controller.get_event(id, source)
    return event_response(rendered, if_none_match, cache_control=controller.cache_control)


async def get_event_canonical(
    id: CanonicalEventIdPath,
    request: Request,
    source: SourceQuery = None,
    if_none_match: IfNoneMatchHeader = None,
) -> Response:
    return await get_event(id, request, source, if_none_match)


async def read_event_body(request: Request, controller: PublishControllerDep) -> bytes:
    """The raw body, refused early when its media type or size is wrong."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in EVENT_MEDIA_TYPES:
        raise UnsupportedMediaType(f"send JSON: one of {', '.join(sorted(EVENT_MEDIA_TYPES))}")
    limit = controller.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    return bytes(body)


_EVENT_SCHEMA: Final = CloudEvent.model_json_schema()
_BODY_SCHEMA: Final = {
    "oneOf": [_EVENT_SCHEMA, {"type": "array", "items": _EVENT_SCHEMA, "minItems": 1}]
}
_BODY_EXAMPLES: Final = {
    "one": {"summary": "One event", "value": EXAMPLE_EVENT},
    "batch": {
        "summary": "A batch; with an Idempotency-Key, the second event gets an id derived from it",
        "value": [EXAMPLE_EVENT, {k: v for k, v in EXAMPLE_EVENT.items() if k != "id"}],
    },
}


async def publish_events(
    body: Annotated[bytes, Depends(read_event_body)],
    controller: PublishControllerDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Required when an event has no id: ids are derived from it (and the "
            "event's place in the batch), so a retried request publishes the same events.",
        ),
    ] = None,
) -> PublishAccepted:
    return await controller.publish(body, idempotency_key=idempotency_key)


def router(*, public_read: bool, post_enabled: bool) -> APIRouter:
    """The events routes, in the order the module docstring explains."""
    routes = APIRouter(tags=["events"])
    read = [] if public_read else [ReadAccess]
    auth = {} if public_read else _AUTH_RESPONSES
    common: dict[str, Any] = {"dependencies": read}
    routes.add_api_route(
        "/api/v1/events",
        list_events,
        methods=["GET"],
        response_model=EventPage,
        summary="List events (JSON pages) or export them (NDJSON)",
        description="Events of the range in (time, id) order. JSON: `limit` per page and a "
        '`Link: <...>; rel="next"` header (also `next_cursor`). With `Accept: '
        "application/x-ndjson`: every event of the range as one stream, refused with 422 if "
        "more than the export bound match; `X-Result-Count` gives the number of lines.",
        responses={
            **ERROR_RESPONSES,
            200: {"content": {NDJSON: {"example": EXAMPLE_RESPONSE}}},
            **auth,
        },
        **common,
    )
    routes.add_api_route(
        "/api/v1/{id}",
        get_event,
        methods=["GET"],
        response_model=EventOut,
        summary="Get one event by id (the original contract)",
        description="Same as `GET /api/v1/events/{id}` (which also reaches the id `events`); "
        "the only path to an event whose id is `count`. An id is unique per source: when "
        "several sources used it, the answer is 409 with the sources, and `?source=` chooses.",
        responses={**ERROR_RESPONSES, **_BY_ID_RESPONSES, **auth},
        operation_id="get_event_original",
        **common,
    )
    routes.add_api_route(
        "/api/v1/events/count",
        count_events,
        methods=["GET"],
        response_model=CountResponse,
        summary="Count events per type or source, optionally per hour or day",
        responses={**ERROR_RESPONSES, **auth},
        **common,
    )
    routes.add_api_route(
        "/api/v1/events/{id}",
        get_event_canonical,
        methods=["GET"],
        response_model=EventOut,
        summary="Get one event by id (and source)",
        description="An event is identified by its source and id (CloudEvents ids are unique "
        "per source). `?source=` names the source; without it the id alone must match one "
        "event, or the answer is 409 with the sources to choose from.",
        responses={**ERROR_RESPONSES, **_BY_ID_RESPONSES, **auth},
        operation_id="get_event",
        **common,
    )
    if post_enabled:
        routes.add_api_route(
            "/api/v1/events",
            publish_events,
            methods=["POST"],
            status_code=202,
            dependencies=[WriteAccess],
            summary="Publish one event or a batch to Pub/Sub",
            description="Each event is validated with the event contract (422 names the field "
            "and the contract's reason code), then published in structured mode. An event "
            "without an id needs an `Idempotency-Key` header: its id is derived from the key, "
            "so retrying after a timeout never creates a second event. The ids come back in "
            "order. At most BQINGEST_API_POST_MAX_EVENTS events and BQINGEST_API_POST_MAX_BYTES "
            "bytes (413). A batch Pub/Sub took only in part answers 503 `partly_published` "
            "with the `accepted` ids; retrying the whole request is safe.",
            responses={
                **ERROR_RESPONSES,
                413: {"description": "Too many events or too many bytes."},
                415: {"description": "Not a JSON media type."},
                **_AUTH_RESPONSES,
            },
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {
                        media_type: {"schema": _BODY_SCHEMA, "examples": _BODY_EXAMPLES}
                        for media_type in sorted(EVENT_MEDIA_TYPES)
                    },
                }
            },
        )
    return routes
