"""Print the requirements of one deployable part: the package's core dependencies and one extra.

    python extra_requirements.py pipeline > requirements.txt   # in a Dockerfile's builder step
    pip install --constraint constraints.txt --requirement requirements.txt

Each image installs exactly these, at the versions of constraints.txt, then the package itself
with --no-deps. The static tests build the pipeline's environment with this same script.
Standard library only: it runs on a bare Python image before anything is installed.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def requirements(pyproject: Path, extra: str) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    extras = project["optional-dependencies"]
    if extra not in extras:
        raise SystemExit(f"no extra {extra!r} in {pyproject} (there are: {', '.join(extras)})")
    return [*project["dependencies"], *extras[extra]]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: extra_requirements.py EXTRA  (reads ./pyproject.toml)", file=sys.stderr)
        return 2
    print("\n".join(requirements(Path("pyproject.toml"), argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
