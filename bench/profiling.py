"""Optional py-spy sampling of the servers while the benchmark runs (``--py-spy``).

Each server process gets its own ``py-spy record`` writing collapsed stacks
(``<workdir>/py-spy-<name>-<pid>.folded``); ``python -m bench.hotspots FILE`` summarises
one, and any flame-graph viewer (speedscope, flamegraph.pl) reads it. py-spy pauses the
process for each sample, so figures measured with it on are a little lower.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.servers import Server

SAMPLES_PER_SECOND = 100
STOP_TIMEOUT = 60.0


def py_spy_path() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("--py-spy needs py-spy: .venv/bin/pip install py-spy")
    return found


@contextmanager
def recording(servers: list[Server], workdir: Path, *, gil_only: bool) -> Iterator[list[Path]]:
    executable = py_spy_path()
    outputs = []
    with ExitStack() as stack:
        for server in servers:
            for pid in server.pids:
                output = workdir / f"py-spy-{server.target.name}-{pid}.folded"
                outputs.append(output)
                stack.enter_context(_record(executable, pid, output, workdir, gil_only))
        yield outputs


@contextmanager
def _record(
    executable: str, pid: int, output: Path, workdir: Path, gil_only: bool
) -> Iterator[None]:
    argv = [executable, "record", "--pid", str(pid), "--format", "raw", "--output", str(output)]
    argv += ["--rate", str(SAMPLES_PER_SECOND), "--subprocesses"]
    if gil_only:
        argv.append("--gil")
    with (workdir / "py-spy.log").open("ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield
    finally:
        # SIGINT makes py-spy stop sampling and write its output.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
