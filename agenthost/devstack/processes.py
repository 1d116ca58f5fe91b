"""Child processes of the launcher: tied to its life, their output prefixed and kept."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

_PR_SET_PDEATHSIG = 1
# Resolved once in the parent: the child, between fork and exec, only makes the call.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _die_with(parent_pid: int) -> Callable[[], None] | None:
    """A preexec hook asking Linux to SIGTERM the child when the launcher dies.

    This covers a SIGKILLed launcher, which gets no chance to stop its children. The
    death signal fires when the forking thread exits, so spawn from the main thread.
    """
    if _prctl is None:
        return None

    def preexec() -> None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the launcher died before the hook ran
            os._exit(1)

    return preexec


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    # Set when the ready marker is printed or the output ends, whichever comes first.
    _settled: threading.Event = field(default_factory=threading.Event)
    _marker_seen: bool = False

    def wait_ready(self, timeout: float) -> bool:
        """True once the ready marker was printed; False if the child ended or time ran out."""
        self._settled.wait(timeout)
        return self._marker_seen

    def pump(self, ready_marker: str | None, echo: bool) -> None:
        """Keep (and maybe echo) the child's output, noting when it says it is ready."""
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line)
            if echo:
                sys.stdout.write(f"{self.name:>6} | {line}")
                sys.stdout.flush()
            if ready_marker and ready_marker in line:
                self._marker_seen = True
                self._settled.set()
        self._settled.set()

    def output(self, last: int = 40) -> str:
        return "".join(self.lines[-last:])

    def terminate(self) -> None:
        # Only while unreaped: the pid (its own process group) cannot have been reused.
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)

    def wait_or_kill(self, timeout: float) -> None:
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


def children_stop(children: Iterable[Child], *, timeout: float = 20.0) -> None:
    """SIGTERM all at once (they shut down in parallel), then wait; SIGKILL stragglers."""
    children = list(children)
    for child in children:
        child.terminate()
    for child in children:
        child.wait_or_kill(timeout)


def child_spawn(
    *,
    name: str,
    argv: list[str],
    env: Mapping[str, str],
    ready_marker: str | None = None,
    echo: bool = True,
) -> Child:
    """Start `argv` in its own session, so a terminal's Ctrl-C reaches only the launcher,
    which then stops its children in order."""
    popen = subprocess.Popen(
        argv,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_die_with(os.getpid()),
    )
    child = Child(name=name, popen=popen)
    threading.Thread(target=child.pump, args=(ready_marker, echo), daemon=True).start()
    return child
