"""Child processes that never outlive us: own process group, parent-death signal, clean stop.

Every emulator and service that ``bqingest up`` runs is a :class:`ManagedProcess`. It starts in a
new session (so a stop reaches its whole process tree), asks the kernel to send it SIGTERM if we
die without cleaning up (Linux ``PR_SET_PDEATHSIG``; covers ``kill -9`` of the parent), and
:meth:`ManagedProcess.stop` sends SIGTERM to the group, then SIGKILL after a grace period.

The parent-death signal is set by the child itself, not by a ``preexec_fn``: Python documents
``preexec_fn`` as unsafe once the parent has threads (``bqingest up`` has gRPC's by then), since
the forked child may deadlock on a lock another thread held. On Linux the child first runs
:data:`_GUARD`, a few lines of Python on the standard library alone, which sets the signal,
checks that its parent is still the process that started it (a parent that died before the
signal was set would otherwise be missed), restores the signals Python ignores, and execs
the real command in the same process (same pid, same session).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Final

from bqingest.local.errors import StartupFailed
from bqingest.local.polling import until_deadline

_GUARD: Final = """\
import ctypes, os, signal, sys
parent = int(sys.argv[1])
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
if os.getppid() != parent:  # the parent died before the signal was set
    sys.exit(1)
for name in ("SIGPIPE", "SIGXFSZ"):  # ignored by Python at start; exec would keep that
    if hasattr(signal, name):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
try:
    os.execvp(sys.argv[2], sys.argv[2:])
except OSError as exc:
    print(f"cannot run {sys.argv[2]}: {exc}", file=sys.stderr, flush=True)
    sys.exit(127)
"""
"""The child's first program on Linux: parent-death signal, race check, then exec."""

_GUARDED: Final = sys.platform.startswith("linux")


def guarded_argv(argv: Sequence[str], parent: int) -> list[str]:
    """``argv`` run through :data:`_GUARD` where the parent-death signal exists (Linux)."""
    if not _GUARDED:
        return list(argv)
    # -I -S: the guard needs only the standard library; no site, no PYTHON* variables.
    return [sys.executable, "-I", "-S", "-c", _GUARD, str(parent), *argv]


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
        environment = self.env if self.env is not None else os.environ
        if (
            os.sep not in self.argv[0]
            and shutil.which(self.argv[0], path=environment.get("PATH")) is None
        ):  # as Popen would say, though the guard, not Popen, runs the command
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), self.argv[0])
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            guarded_argv(self.argv, os.getpid()),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
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
