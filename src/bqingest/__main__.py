"""``python -m bqingest`` is the ``bqingest`` command."""

from bqingest.cli import main

main()
