"""The pipeline image's Python environment, built here the way dataflow/Dockerfile builds it.

Same interpreter minor version (the image's PYTHON_IMAGE), same requirement list (the Dockerfile
runs docker/extra_requirements.py pipeline), same constraints.txt, same pip command. The
virtualenv is made once per set of inputs and kept in the test cache (tests/static/cache.py):
about a minute and 800 MB the first time (Apache Beam with its GCP extras from PyPI), a lookup
afterwards. The package itself is not installed into it: the check runs with src/ on the path,
so the environment is reused while only the code changes.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.static import cache
from tests.static import delivery_config as dc

DOCKERFILE = dc.REPO / "dataflow" / "Dockerfile"
REQUIREMENTS_SCRIPT = dc.REPO / "docker" / "extra_requirements.py"
EXTRA = "pipeline"


class EnvironmentNotBuilt(RuntimeError):
    """The environment could not be built (no interpreter, no network to PyPI...)."""


def python_minor() -> str:
    """3.11 from ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:..."""
    image = dc.dockerfile_args(DOCKERFILE)["PYTHON_IMAGE"]
    match = re.fullmatch(r"python:(\d+\.\d+)\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", image)
    if not match:
        raise EnvironmentNotBuilt(f"PYTHON_IMAGE is not a pinned python slim image: {image}")
    return match.group(1)


def interpreter(minor: str) -> str:
    """A python of that minor version on this machine."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == minor:
        return sys.executable
    found = shutil.which(f"python{minor}")
    if found is None:
        raise EnvironmentNotBuilt(
            f"python{minor} is not installed: the pipeline image runs {minor}"
        )
    return found


def requirements() -> str:
    """What the Dockerfile's builder step installs, computed by the same script."""
    result = subprocess.run(
        [sys.executable, str(REQUIREMENTS_SCRIPT), EXTRA],
        cwd=dc.REPO, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    return result.stdout


def install_command(python: Path, requirements_file: Path) -> list[str]:
    """The Dockerfile's `pip install --constraint constraints.txt --requirement ...`."""
    return [
        str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--constraint", str(dc.REPO / "constraints.txt"),
        "--requirement", str(requirements_file),
    ]  # fmt: skip


def environment() -> Path:
    """The virtualenv's python, built on first use."""
    minor = python_minor()
    wanted = requirements()
    constraints = (dc.REPO / "constraints.txt").read_text()
    key = cache.digest(minor, wanted, constraints, " ".join(install_command(Path("py"), Path("r"))))
    root = cache.directory("pipeline-environment")
    target = root / f"py{minor}-{key}"
    python = target / "bin" / "python"
    if (target / ".complete").is_file():
        return python
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the others wait and reuse it
        if (target / ".complete").is_file():
            return python
        shutil.rmtree(target, ignore_errors=True)  # what an interrupted build left
        try:
            subprocess.run(
                [interpreter(minor), "-m", "venv", str(target)],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            requirements_file = target / "requirements-pipeline.txt"
            requirements_file.write_text(wanted)
            for command in (
                install_command(python, requirements_file),
                [str(python), "-m", "pip", "check"],
            ):
                result = subprocess.run(
                    command, capture_output=True, text=True, timeout=1200, check=False
                )
                if result.returncode != 0:
                    raise EnvironmentNotBuilt(
                        f"building the pipeline environment failed: {' '.join(command[1:4])}: "
                        f"{(result.stdout + result.stderr)[-3000:]}"
                    )
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        (target / ".complete").write_text(key + "\n")
    return python
