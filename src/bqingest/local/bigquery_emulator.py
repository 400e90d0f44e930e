"""bqemulator (PyPI) as the local BigQuery: REST for the client library, gRPC for the Storage API.

Two things make it start offline (see docs/adr/0001-local-emulation.md): DuckDB's spatial
extension must already be installed, because bqemulator loads it at start and would otherwise try
to download it; we install it from the ``duckdb-extension-spatial`` wheel. And its pytest plugin
imports an optional package, which is why pytest runs with ``-p no:bqemulator``.

It runs through :mod:`bqingest.local.bqemulator_main`, which gives each of bqemulator's threads its
own DuckDB cursor: as released, a query and a Storage Write API append at the same moment share
one connection and fail or hang.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

from bqingest.clients import port_is_open, split_host_port
from bqingest.local.errors import PortInUse, PrerequisiteMissing
from bqingest.local.processes import ManagedProcess

TIME_TRAVEL_VARIABLE = "BQINGEST_BIGQUERY_EMULATOR_TIME_TRAVEL"
"""Read by bqemulator_main in the emulator's process; the Settings field of the same name."""


def ensure_spatial_extension() -> None:
    """Install DuckDB's spatial extension from the local wheel if DuckDB does not have it yet."""
    try:
        import duckdb
        from duckdb_extensions import import_extension
    except ImportError as exc:
        raise PrerequisiteMissing(
            f"the local BigQuery needs the 'local' extra ({exc.name} is missing): "
            "pip install 'bqingest[local]', or run `make run`, which installs it"
        ) from None
    with duckdb.connect() as connection:
        installed = connection.execute(
            "SELECT installed FROM duckdb_extensions() WHERE extension_name = 'spatial'"
        ).fetchone()
    if not (installed and installed[0]):
        import_extension("spatial")


def is_ready(rest_host_port: str, grpc_host_port: str, project: str) -> bool:
    """Both APIs answer: REST lists datasets and the gRPC port accepts connections."""
    url = f"http://{rest_host_port}/bigquery/v2/projects/{project}/datasets"
    with urllib.request.urlopen(url, timeout=1) as response:
        if response.status != 200:
            return False
    return port_is_open(grpc_host_port)


class BigQueryEmulator:
    """bqemulator with its DuckDB file in ``data_dir`` (data survives restarts)."""

    def __init__(
        self,
        rest_host_port: str,
        grpc_host_port: str,
        *,
        data_dir: Path,
        project: str,
        log_path: Path,
        time_travel: bool = False,
    ) -> None:
        self.rest_host_port = rest_host_port
        self.time_travel = time_travel
        self.grpc_host_port = grpc_host_port
        self.data_dir = data_dir
        self.project = project
        self._log_path = log_path
        self.process: ManagedProcess | None = None

    def launch(self) -> None:
        """Start the process without waiting for it (see :meth:`wait_ready`)."""
        ensure_spatial_extension()
        rest_host, rest_port = split_host_port(self.rest_host_port)
        grpc_host, grpc_port = split_host_port(self.grpc_host_port)
        for host_port, variable in (
            (self.rest_host_port, "BQINGEST_BIGQUERY_EMULATOR_HOST"),
            (self.grpc_host_port, "BQINGEST_BIGQUERY_EMULATOR_GRPC_HOST"),
        ):
            if port_is_open(host_port):
                raise PortInUse(
                    f"{host_port} is already in use: stop what listens there or set "
                    f"{variable} to a free host:port"
                )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            # bqemulator's own CLI, with one DuckDB cursor per thread (see bqemulator_main).
            sys.executable, "-m", "bqingest.local.bqemulator_main", "start",
            "--rest-host", rest_host, "--rest-port", str(rest_port),
            "--grpc-host", grpc_host, "--grpc-port", str(grpc_port),
            "--persistent", "--data-dir", str(self.data_dir),
            "--project", self.project,
            "--log-format", "json", "--log-level", "warning",
        ]  # fmt: skip
        env = {**os.environ, TIME_TRAVEL_VARIABLE: "true" if self.time_travel else "false"}
        self.process = ManagedProcess("BigQuery emulator", argv, log_path=self._log_path, env=env)
        self.process.start()

    def wait_ready(self, *, timeout: float) -> float:
        """Wait until both APIs answer; return the seconds that took."""
        assert self.process is not None, "launch() first"
        return self.process.wait_ready(
            lambda: is_ready(self.rest_host_port, self.grpc_host_port, self.project),
            timeout=timeout,
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
