"""Running queries so that a failed query always raises, on BigQuery and on the emulator alike.

BigQuery answers a bad ``jobs.query`` with an HTTP error, which google-cloud-bigquery raises.
bqemulator answers HTTP 200 with an ``errors`` list and an empty result, which the client turns
into an empty row iterator: a missing table would read as "no rows". :func:`query` checks what a
successful SELECT always has (a result schema) and, when it is missing, fetches the job's error
and raises the same ``google.api_core`` exception BigQuery would have raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.api_core import exceptions
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY, DEFAULT_RETRY
from google.cloud.bigquery.table import Row, RowIterator

QueryParameter = bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter

_EXCEPTION_BY_REASON: dict[str, type[exceptions.GoogleAPICallError]] = {
    "notFound": exceptions.NotFound,
    "accessDenied": exceptions.Forbidden,
    "invalidQuery": exceptions.BadRequest,
    "invalid": exceptions.BadRequest,
    "backendError": exceptions.InternalServerError,
    "timeout": exceptions.GatewayTimeout,
}


def query(
    client: bigquery.Client,
    sql: str,
    *,
    parameters: Sequence[QueryParameter] = (),
    timeout: float | None = None,
    maximum_bytes_billed: int | None = None,
    max_results: int | None = None,
) -> RowIterator:
    """Run a SELECT in short-query mode and return its rows; raise on any failure.

    ``timeout`` bounds the whole call, in seconds: the wait for the query, each API call, and the
    client's retries of both (which otherwise go on for 10 and 40 minutes through a BigQuery
    brownout, holding the caller's thread long after its own deadline). Later pages of the
    result are fetched with the same bound.
    """
    job_config = bigquery.QueryJobConfig(
        query_parameters=list(parameters), maximum_bytes_billed=maximum_bytes_billed
    )
    rows = client.query_and_wait(
        sql,
        job_config=job_config,
        wait_timeout=timeout,
        api_timeout=timeout,
        max_results=max_results,
        **bounded_retries(timeout),
    )
    if not rows.schema:
        _raise_job_error(client, rows, sql)
    return rows


def bounded_retries(timeout: float | None) -> dict[str, Any]:
    """The client's default retries, cut to ``timeout`` seconds (unchanged when None)."""
    if timeout is None:
        return {}
    return {
        "retry": DEFAULT_RETRY.with_timeout(timeout),
        "job_retry": DEFAULT_JOB_RETRY.with_timeout(timeout),
    }


def query_all(client: bigquery.Client, sql: str, **kwargs: Any) -> list[Row]:
    """:func:`query`, materialised into a list."""
    return list(query(client, sql, **kwargs))


def _raise_job_error(client: bigquery.Client, rows: RowIterator, sql: str) -> None:
    error: dict[str, Any] | None = None
    if rows.job_id is not None:
        job = client.get_job(rows.job_id, project=rows.project, location=rows.location)
        error = job.error_result
    if error is None:
        raise exceptions.InternalServerError(  # type: ignore[no-untyped-call]
            f"query returned no result schema and no error: {sql.strip()[:200]}"
        )
    exception_type = _EXCEPTION_BY_REASON.get(str(error.get("reason")), exceptions.BadRequest)
    raise exception_type(str(error.get("message", "query failed")), errors=[error])


def dml(
    client: bigquery.Client,
    sql: str,
    *,
    parameters: Sequence[QueryParameter] = (),
    timeout: float | None = None,
) -> int:
    """Run one UPDATE/DELETE/MERGE statement and return the number of rows it changed."""
    job = client.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=list(parameters)))
    job.result(timeout=timeout)
    return int(job.num_dml_affected_rows or 0)
