"""Every error the API answers with: one tree, one body, mapped to HTTP here and nowhere else.

Code below the routes raises these (or lets the framework's validation errors through); the
handlers installed by :func:`install` turn them into responses with the one :class:`ErrorBody`
schema. Failures of the Google clients are translated into the tree by
:func:`translate_google_error` at the single place they are called from (the warehouse pool and
the publisher). Anything else becomes a 500 that names the request id and nothing more.

::

    BqingestError (bqingest.errors: the root of the project's errors)
    └── ApiError                      body code               HTTP
    ├── EventNotFound                 not_found               404
    ├── AmbiguousEventId              ambiguous_id            409  (+ choices: the sources)
    ├── InvalidInput                  invalid_input           422  (field + contract reason code)
    │   └── RangeTooLarge             range_too_large         422  (narrow since/until)
    ├── MissingApiKey                 unauthenticated         401  (+ WWW-Authenticate)
    ├── InvalidApiKey                 forbidden               403
    ├── PayloadTooLarge               payload_too_large       413
    ├── UnsupportedMediaType          unsupported_media_type  415
    └── UpstreamUnavailable           unavailable             503  (+ Retry-After)
        ├── UpstreamTimeout           timeout                 503
        ├── Overloaded                overloaded              503  (request shed, queue full)
        ├── BatchPartlyPublished      partly_published        503  (+ accepted: the ids that were)
        └── UpstreamResourceMissing   resource_missing        503  (+ a CRITICAL log line)

    ContractError (the contract's ValueError)   -> 422 invalid_input with its field and reason
    framework: RequestValidationError -> 422 invalid_input; HTTPException -> its status
    anything else (a stray ValueError too)      -> 500 internal_error (request id only)
"""

from __future__ import annotations

import logging
from typing import Any, Final

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from google.api_core import exceptions as google_exceptions
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from bqingest.contract import ContractError, Reason
from bqingest.contract.errors import REASON_BY_ERROR_TYPE
from bqingest.contract.ids import INVALID_ID_MESSAGE
from bqingest.errors import BqingestError

logger = logging.getLogger("bqingest.api.errors")

RETRY_AFTER_SECONDS: Final = 1


class ErrorDetail(BaseModel):
    """What went wrong, for a machine (``code``, ``reason``, ``field``) and a human."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "invalid_input",
                    "message": INVALID_ID_MESSAGE,
                    "field": "id",
                    "reason": "invalid_id",
                    "request_id": "4b1d0c3b9f6a4f0e8a7f2b1c3d4e5f60",
                }
            ]
        }
    )

    code: str = Field(description="Stable error code, one per kind of failure.")
    message: str = Field(description="Human-readable explanation; never internals.")
    field: str | None = Field(None, description="The offending input, when there is one.")
    reason: str | None = Field(
        None, description="For invalid_input: a reason code of the event contract."
    )
    request_id: str | None = Field(None, description="Quote it when reporting a problem.")
    choices: list[str] | None = Field(
        None, description="For ambiguous_id: the sources that have an event with this id."
    )
    accepted: list[str] | None = Field(
        None,
        description="For partly_published: the ids Pub/Sub accepted (the others were not "
        "published). Retrying the whole batch is safe: the ids stay the same, and readers see "
        "each (source, id) once.",
    )


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class ApiError(BqingestError):
    """Base of every error the API answers deliberately."""

    status_code: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        reason: str | None = None,
        choices: list[str] | None = None,
        accepted: list[str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason
        self.choices = choices
        self.accepted = accepted

    def headers(self) -> dict[str, str]:
        return {}


class EventNotFound(ApiError):
    status_code = 404
    code = "not_found"


class AmbiguousEventId(ApiError):
    """An id alone names events of several sources: the client must choose (``?source=``)."""

    status_code = 409
    code = "ambiguous_id"


class InvalidInput(ApiError):
    status_code = 422
    code = "invalid_input"

    @classmethod
    def from_contract(cls, error: ContractError, *, prefix: str = "") -> InvalidInput:
        field = f"{prefix}.{error.field}" if prefix and error.field else (prefix or error.field)
        return cls(error.message, field=field, reason=error.reason.value)


class RangeTooLarge(InvalidInput):
    code = "range_too_large"


class MissingApiKey(ApiError):
    status_code = 401
    code = "unauthenticated"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}


class InvalidApiKey(ApiError):
    status_code = 403
    code = "forbidden"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(ApiError):
    status_code = 415
    code = "unsupported_media_type"


class UpstreamUnavailable(ApiError):
    """A dependency (BigQuery, Pub/Sub) cannot answer now; retrying later may work."""

    status_code = 503
    code = "unavailable"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}


class UpstreamTimeout(UpstreamUnavailable):
    code = "timeout"


class Overloaded(UpstreamUnavailable):
    code = "overloaded"


class BatchPartlyPublished(UpstreamUnavailable):
    """The answer to a batch Pub/Sub took only in part: ``accepted`` names the events it took, by
    id (the publisher reports it as :class:`~bqingest.api.publisher.PubSubPartialFailure`)."""

    code = "partly_published"


class UpstreamResourceMissing(UpstreamUnavailable):
    """A table, view, dataset or topic the configuration names does not exist: an outage."""

    code = "resource_missing"


def translate_google_error(exc: Exception, *, what: str) -> Exception:
    """The tree's error for a failure of a Google client call (``what`` names the call).

    Errors that are not about availability (a query BigQuery refuses as invalid, say) are bugs
    of ours and are returned unchanged, to end as a 500.
    """
    if isinstance(exc, google_exceptions.NotFound):
        return UpstreamResourceMissing(f"{what}: a configured resource does not exist")
    if isinstance(exc, google_exceptions.BadRequest) and _reason(exc) == "bytesBilledLimitExceeded":
        return RangeTooLarge(
            "the query would scan more than the configured maximum_bytes_billed: "
            "narrow since/until",
            field="since",
            reason=Reason.INVALID_VALUE.value,
        )
    if isinstance(exc, google_exceptions.DeadlineExceeded | TimeoutError | requests.Timeout):
        return UpstreamTimeout(f"{what}: no answer within the deadline")
    if isinstance(
        exc,
        google_exceptions.ServiceUnavailable
        | google_exceptions.TooManyRequests
        | google_exceptions.InternalServerError
        | google_exceptions.BadGateway
        | google_exceptions.GatewayTimeout
        | google_exceptions.Forbidden
        | google_exceptions.Unauthenticated
        | google_exceptions.RetryError
        | ConnectionError
        | requests.ConnectionError,
    ):
        return UpstreamUnavailable(f"{what}: the service is unavailable")
    return exc


def _reason(exc: google_exceptions.GoogleAPICallError) -> str | None:
    for error in exc.errors or ():
        if isinstance(error, dict) and "reason" in error:
            return str(error["reason"])
    return None


def error_response(
    status_code: int,
    code: str,
    message: str,
    *,
    request_id: str | None,
    field: str | None = None,
    reason: str | None = None,
    choices: list[str] | None = None,
    accepted: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The one shape of every error response (``choices``, ``accepted`` only when given)."""
    detail = ErrorDetail(
        code=code,
        message=message,
        field=field,
        reason=reason,
        request_id=request_id,
        choices=choices,
        accepted=accepted,
    )
    body = ErrorBody(error=detail).model_dump(mode="json")
    for optional in ("choices", "accepted"):
        if body["error"][optional] is None:
            del body["error"][optional]
    return JSONResponse(body, status_code=status_code, headers=headers)


def internal_error_response(request_id: str | None) -> JSONResponse:
    """The 500 answer for anything unexpected: a request id to quote, no internals."""
    return error_response(
        500,
        "internal_error",
        "unexpected error; quote the request id when reporting it",
        request_id=request_id,
    )


def request_id_of(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    if isinstance(exc, UpstreamResourceMissing):
        logger.critical(
            "%s: check that bootstrap or Terraform created it (%s %s)",
            exc.message,
            request.method,
            request.url.path,
            exc_info=exc.__cause__,
        )
    elif isinstance(exc, UpstreamUnavailable):
        logger.warning("%s (%s %s)", exc.message, request.method, request.url.path)
    return error_response(
        exc.status_code,
        exc.code,
        exc.message,
        request_id=request_id_of(request),
        field=exc.field,
        reason=exc.reason,
        choices=exc.choices,
        accepted=exc.accepted,
        headers=exc.headers(),
    )


def _validation_field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(part) for part in loc if part not in ("path", "query", "header", "body")]
    return ".".join(parts) or None


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "type": "", "msg": "invalid input"}
    field = _validation_field(tuple(first.get("loc", ())))
    kind = str(first.get("type", ""))
    reason = REASON_BY_ERROR_TYPE.get(kind, Reason.INVALID_VALUE)
    if field == "id" and kind == "string_pattern_mismatch":
        reason = Reason.INVALID_ID
        message = INVALID_ID_MESSAGE
    else:
        message = f"{field}: {first.get('msg', 'invalid')}" if field else str(first.get("msg"))
    return error_response(
        422,
        "invalid_input",
        message,
        request_id=request_id_of(request),
        field=field,
        reason=reason.value,
    )


_CODE_BY_STATUS: Final = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request refused"
    return error_response(
        exc.status_code,
        _CODE_BY_STATUS.get(exc.status_code, "http_error"),
        message,
        request_id=request_id_of(request),
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _contract_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ContractError)
    return await _api_error(request, InvalidInput.from_contract(exc))


def install(app: FastAPI) -> None:
    """Map the tree (and the framework's own errors) to responses on ``app``."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ContractError, _contract_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


ERROR_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (422, "Invalid input: the field and a reason code of the event contract."),
        (500, "Unexpected error: the body names the request id, nothing else."),
        (503, "BigQuery or Pub/Sub unavailable, too slow, or overloaded: retry after Retry-After."),
    )
}
"""OpenAPI documentation of the errors every endpoint may answer."""
