"""ManagedProcess: started, probed, stopped, and never outliving its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bqingest.clients import port_is_open, split_host_port
from bqingest.local.errors import StartupFailed
from bqingest.local.processes import ManagedProcess
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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_stop_ends_the_whole_process_group(tmp_path: Path) -> None:
    # The child starts a grandchild; stopping the child must end both.
    script = "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)"
    process = ManagedProcess("sleeper", [sys.executable, "-c", script], log_path=tmp_path / "log")
    process.start()
    assert process.pid is not None
    time.sleep(0.5)
    group = subprocess.run(
        ["pgrep", "-g", str(process.pid)], capture_output=True, text=True, check=False
    )
    pids = [int(p) for p in group.stdout.split()]
    assert len(pids) == 2
    process.stop(grace=5)
    assert all(wait_gone(pid) for pid in pids)
    assert not process.running()


def test_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)"
    process = ManagedProcess("stubborn", [sys.executable, "-c", script], log_path=tmp_path / "log")
    process.start()
    time.sleep(0.5)
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
        from bqingest.local.processes import ManagedProcess
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


def test_ports() -> None:
    port = free_port()
    assert not port_is_open(f"127.0.0.1:{port}")
    assert split_host_port("127.0.0.1:8085") == ("127.0.0.1", 8085)
    assert split_host_port("[::1]:9050") == ("::1", 9050)
