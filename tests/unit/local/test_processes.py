"""ManagedProcess: started, probed, stopped, and never outliving its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bqingest.clients import port_is_open, split_host_port
from bqingest.local.errors import StartupFailed
from bqingest.local.processes import ManagedProcess, guarded_argv
from tests.support import free_port


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes.
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "State:\tZ" in status.read_text())


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    return wait_for(lambda: not alive(pid), timeout)


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def group_of(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-g", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in found.stdout.split()]


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    # The child starts a grandchild; stopping the child must end both.
    script = "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)"
    process = ManagedProcess("sleeper", [sys.executable, "-c", script], log_path=tmp_path / "log")
    process.start()
    pid = process.pid
    assert pid is not None
    # The grandchild exists once the child has started it: wait for that, not for a guess.
    assert wait_for(lambda: len(group_of(pid)) == 2), f"group of {pid}: {group_of(pid)}"
    pids = group_of(pid)
    process.stop(grace=5)
    assert all(wait_gone(pid) for pid in pids)
    assert not process.running()


def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    ready = tmp_path / "ignoring"
    script = (
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "pathlib.Path(sys.argv[1]).touch(); time.sleep(300)"
    )
    process = ManagedProcess(
        "stubborn", [sys.executable, "-c", script, str(ready)], log_path=tmp_path / "log"
    )
    process.start()
    assert wait_for(ready.exists), "the child never ignored SIGTERM"
    started = time.monotonic()
    process.stop(grace=0.5)
    assert process.returncode() == -signal.SIGKILL
    assert time.monotonic() - started < 5


def test_wait_ready_reports_an_early_exit_with_its_output(tmp_path: Path) -> None:
    script = "import sys; print('port already bound'); sys.exit(3)"
    process = ManagedProcess("doomed", [sys.executable, "-c", script], log_path=tmp_path / "log")
    process.start()
    with pytest.raises(StartupFailed, match=r"doomed exited with code 3(.|\n)*port already bound"):
        process.wait_ready(lambda: False, timeout=10)


def test_wait_ready_times_out_and_stops_the_process(tmp_path: Path) -> None:
    process = ManagedProcess("slow", ["sleep", "300"], log_path=tmp_path / "log")
    process.start()
    with pytest.raises(StartupFailed, match="did not become ready within 1s"):
        process.wait_ready(lambda: False, timeout=1)
    assert not process.running()


def test_children_die_with_a_killed_parent(tmp_path: Path) -> None:
    """kill -9 of the parent cannot leave an orphan: the kernel signals the child."""
    pid_file = tmp_path / "child.pid"
    parent = textwrap.dedent(
        f"""
        import pathlib, sys, time
        from bqingest.local.processes import ManagedProcess, guarded_argv
        log = pathlib.Path({str(tmp_path)!r}) / "c.log"
        p = ManagedProcess("child", ["sleep", "300"], log_path=log)
        p.start()
        pathlib.Path({str(pid_file)!r}).write_text(str(p.pid))
        time.sleep(300)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", parent])
    deadline = time.monotonic() + 20
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    assert alive(child)
    proc.kill()
    proc.wait()
    assert wait_gone(child), "child outlived its SIGKILLed parent"


def test_start_forks_without_preexec_fn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """preexec_fn is unsafe once the parent has threads (``bqingest up`` runs gRPC's)."""
    seen: list[dict[str, object]] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    process = ManagedProcess("sleeper", ["sleep", "300"], log_path=tmp_path / "log")
    process.start()
    process.stop(grace=5)
    assert seen and seen[0].get("preexec_fn") is None
    assert seen[0]["start_new_session"] is True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_guard_runs_nothing_when_its_parent_is_already_gone() -> None:
    """The race the guard closes: a parent that died before the signal was set."""
    not_our_pid = 1 if os.getpid() != 1 else 2
    marker = "the command ran"
    done = subprocess.run(
        guarded_argv(["echo", marker], parent=not_our_pid),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, marker in done.stdout) == (1, False)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_guard_execs_the_command_with_the_death_signal_and_default_sigpipe() -> None:
    # The exec'd command keeps the parent-death signal: read with prctl(PR_GET_PDEATHSIG).
    script = (
        "import ctypes; v = ctypes.c_int(); "
        "ctypes.CDLL(None).prctl(2, ctypes.byref(v), 0, 0, 0); print(v.value)"
    )
    done = subprocess.run(
        guarded_argv([sys.executable, "-S", "-c", script], parent=os.getpid()),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert done.stdout.strip() == str(int(signal.SIGTERM))
    # And not the SIGPIPE that the guard's own Python ignored (a shell shows its SigIgn mask).
    shell = subprocess.run(
        guarded_argv(["sh", "-c", "grep SigIgn /proc/self/status"], parent=os.getpid()),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    ignored = int(shell.stdout.split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))


def test_a_missing_program_is_refused_at_start(tmp_path: Path) -> None:
    process = ManagedProcess("nothing", ["no-such-program-here"], log_path=tmp_path / "log")
    with pytest.raises(FileNotFoundError, match="no-such-program-here"):
        process.start()


def test_ports() -> None:
    port = free_port()
    assert not port_is_open(f"127.0.0.1:{port}")
    assert split_host_port("127.0.0.1:8085") == ("127.0.0.1", 8085)
    assert split_host_port("[::1]:9050") == ("::1", 9050)
