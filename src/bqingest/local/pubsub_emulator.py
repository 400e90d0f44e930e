"""Google's official Pub/Sub emulator (a Java program shipped with the Google Cloud CLI).

We run the jar directly with ``java -jar`` rather than through ``gcloud beta emulators``: one
process instead of a Python wrapper plus a Java child, so stopping it cannot leave an orphan.
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Final

from bqingest.clients import port_is_open, split_host_port
from bqingest.local.errors import PortInUse, PrerequisiteMissing
from bqingest.local.processes import ManagedProcess

_JAR_GLOB: Final = "platform/pubsub-emulator/lib/cloud-pubsub-emulator-*-all.jar"
_STANDARD_SDK_ROOTS: Final = (
    Path("/usr/lib/google-cloud-sdk"),
    Path("/usr/share/google-cloud-sdk"),
    Path("/opt/google-cloud-sdk"),
    Path("/opt/homebrew/share/google-cloud-sdk"),
    Path("/usr/local/share/google-cloud-sdk"),
    Path.home() / "google-cloud-sdk",
)

INSTALL_EMULATOR_HINT: Final = (
    "install it with `gcloud components install pubsub-emulator` "
    "(Debian/Ubuntu: `sudo apt-get install google-cloud-cli-pubsub-emulator`), "
    "or point BQINGEST_PUBSUB_EMULATOR_JAR at cloud-pubsub-emulator-*-all.jar"
)
INSTALL_JAVA_HINT: Final = (
    "install a Java runtime 11 or newer (Debian/Ubuntu: `sudo apt-get install "
    "openjdk-17-jre-headless`; macOS: `brew install openjdk@17`) and put `java` on PATH"
)


def find_java() -> str:
    """The ``java`` executable, or PrerequisiteMissing with install instructions."""
    java = shutil.which("java")
    if java is None:
        raise PrerequisiteMissing(
            f"Java not found: the Pub/Sub emulator needs it; {INSTALL_JAVA_HINT}"
        )
    return java


def _sdk_root_from_gcloud() -> Path | None:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    try:
        out = subprocess.run(
            [gcloud, "info", "--format=value(installation.sdk_root)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    root = out.stdout.strip()
    return Path(root) if root else None


def find_jar(override: Path | None = None) -> Path:
    """Locate the emulator jar: explicit setting, then ``gcloud info``, then standard SDK paths."""
    if override is not None:
        if override.is_file():
            return override
        raise PrerequisiteMissing(
            f"BQINGEST_PUBSUB_EMULATOR_JAR={override} does not exist; {INSTALL_EMULATOR_HINT}"
        )
    roots = [root for root in (_sdk_root_from_gcloud(),) if root is not None]
    roots.extend(_STANDARD_SDK_ROOTS)
    for root in roots:
        jars = sorted(root.glob(_JAR_GLOB))
        if jars:
            return jars[-1]
    raise PrerequisiteMissing(f"Pub/Sub emulator not found; {INSTALL_EMULATOR_HINT}")


def is_ready(host_port: str) -> bool:
    """The emulator answers ``GET /`` with ``Ok`` once it serves requests."""
    with urllib.request.urlopen(f"http://{host_port}/", timeout=1) as response:
        return bool(response.status == 200)


class PubSubEmulator:
    """The Pub/Sub emulator listening on ``host_port`` (state is in memory only)."""

    def __init__(self, host_port: str, *, log_path: Path, jar: Path | None = None) -> None:
        self.host_port = host_port
        self._jar_override = jar
        self._log_path = log_path
        self.process: ManagedProcess | None = None

    def launch(self) -> None:
        """Start the process without waiting for it (see :meth:`wait_ready`)."""
        java = find_java()
        jar = find_jar(self._jar_override)
        host, port = split_host_port(self.host_port)
        if port_is_open(self.host_port):
            raise PortInUse(
                f"{self.host_port} is already in use: stop what listens there or set "
                "BQINGEST_PUBSUB_EMULATOR_HOST to a free host:port"
            )
        self.process = ManagedProcess(
            "Pub/Sub emulator",
            [java, "-jar", str(jar), f"--host={host}", f"--port={port}"],
            log_path=self._log_path,
        )
        self.process.start()

    def wait_ready(self, *, timeout: float) -> float:
        """Wait until it answers; return the seconds that took."""
        assert self.process is not None, "launch() first"
        return self.process.wait_ready(lambda: is_ready(self.host_port), timeout=timeout)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
