"""Child processes that never outlive us: own process group, parent-death signal, clean stop.

Every emulator and service that ``bqingest up`` runs is a :class:`ManagedProcess`. It starts in a
new session (so a stop reaches its whole process tree), asks the kernel to send it SIGTERM if we
die without cleaning up (Linux ``PR_SET_PDEATHSIG``; covers ``kill -9`` of the parent), and
:meth:`ManagedProcess.stop` sends SIGTERM to the group, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Final

from bqingest.local.errors import StartupFailed
from bqingest.local.polling import until_deadline

_PR_SET_PDEATHSIG: Final = 1


def _load_prctl() -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def set_parent_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return set_parent_death_signal


# Resolved once in the parent, so the forked child only makes the system call.
_SET_PARENT_DEATH_SIGNAL: Final = _load_prctl()


class ManagedProcess:
    """One child process with its output in a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def returncode(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    def start(self) -> None:
        if self.running():
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=_SET_PARENT_DEATH_SIGNAL,
        )

    def wait_ready(
        self, probe: Callable[[], bool], *, timeout: float, interval: float = 0.1
    ) -> float:
        """Poll ``probe`` until it returns True; return the seconds it took.

        Raises StartupFailed if the process exits first or the deadline passes.
        """
        started = time.monotonic()
        for _ in until_deadline(timeout=timeout, interval=interval):
            if not self.running():
                self.stop()
                raise StartupFailed(
                    f"{self.name} exited with code {self.returncode()} while starting; "
                    f"last output ({self.log_path}):\n{self.log_tail()}"
                )
            with contextlib.suppress(Exception):
                if probe():
                    return time.monotonic() - started
        self.stop()
        raise StartupFailed(
            f"{self.name} did not become ready within {timeout:.0f}s; "
            f"last output ({self.log_path}):\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def stop(self, *, grace: float = 10.0) -> None:
        """SIGTERM the process group, wait up to ``grace`` seconds, then SIGKILL it."""
        process = self._process
        if process is not None:
            if process.poll() is None:
                self._signal_group(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    self._signal_group(process.pid, signal.SIGKILL)
                    process.wait(timeout=grace)
            # The leader may be gone while children of its group linger: sweep them too.
            self._signal_group(process.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
