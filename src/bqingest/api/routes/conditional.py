"""Conditional GET for by-id responses: ``ETag``, ``Cache-Control`` and ``304 Not Modified``."""

from __future__ import annotations

from fastapi import Response

from bqingest.api.cache import RenderedEvent


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 If-None-Match: ``*`` or any listed tag equal under weak comparison."""
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))


def event_response(
    rendered: RenderedEvent, if_none_match: str | None, *, cache_control: str
) -> Response:
    """200 with the body, or 304 when the client's copy is current; validators on both."""
    headers = {"ETag": rendered.etag, "Cache-Control": cache_control}
    if if_none_match and etag_matches(if_none_match, rendered.etag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="application/json", headers=headers)
