"""Property: walking every page returns every matching row exactly once, in order."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.api.conftest import T0, ApiHarness, record
from tests.unit.api.test_listing import ids, next_link

TYPES = ("t.a", "t.b")

# Few distinct minutes for many events: ties on time are the case keyset paging must get right.
events_strategy = st.lists(
    st.tuples(st.integers(0, 4), st.sampled_from(TYPES)), min_size=0, max_size=30
).map(
    lambda rows: [
        record(f"e-{index:03d}", minutes=minute, type=kind)
        for index, (minute, kind) in enumerate(rows)
    ]
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    events=events_strategy,
    limit=st.integers(1, 7),
    order=st.sampled_from(["asc", "desc"]),
    kind=st.none() | st.sampled_from(TYPES),
    since=st.none() | st.integers(0, 4),
    until=st.none() | st.integers(1, 5),
)
def test_walking_all_pages_returns_every_row_once_in_order(
    api: ApiHarness, events, limit, order, kind, since, until
) -> None:
    if since is not None and until is not None and since >= until:
        until = since + 1
    api.warehouse.events = events
    params: dict[str, str | int] = {"limit": limit, "order": order}
    if kind:
        params["type"] = kind
    if since is not None:
        params["since"] = (T0 + timedelta(minutes=since)).isoformat()
    if until is not None:
        params["until"] = (T0 + timedelta(minutes=until)).isoformat()

    expected = sorted(
        (
            e
            for e in events
            if (kind is None or e.type == kind)
            and (since is None or e.time >= T0 + timedelta(minutes=since))
            and (until is None or e.time < T0 + timedelta(minutes=until))
        ),
        key=lambda e: (e.time, e.id),
        reverse=order == "desc",
    )
    walked: list[str] = []
    pages = 0
    response = api.client.get("/api/v1/events", params=params)
    while True:
        assert response.status_code == 200, response.text
        page = ids(response)
        assert len(page) <= limit
        walked += page
        pages += 1
        link = next_link(response)
        if link is None:
            break
        assert len(page) == limit  # only a full page can have a successor
        response = api.client.get(link)
    assert walked == [e.id for e in expected]
    assert pages == max(1, -(-len(expected) // limit))
