"""agenthost against LangGraph's own server: the same graph, measured interleaved.

Run from the repository root (see bench/README.md):

    PEER_VENV=/path/to/peer-venv .venv/bin/python -m bench.compare

Both servers run side by side for the whole benchmark. Each repetition measures every
scenario on both servers back to back, alternating which goes first, so slow phases of
a shared, noisy machine hit both alike. Figures are medians over the repetitions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NoReturn

from bench import profiling
from bench.client import Client, RequestFailed, run_stream, thread_create
from bench.scenarios import SCENARIOS, Outcome, Scenario, Sizes, incomplete
from bench.servers import (
    REPO,
    AgenthostConfig,
    PeerConfig,
    Server,
    agenthost_server,
    langgraph_server,
)
from bench.wire import ProtocolError

OURS, PEER = "agenthost", "langgraph"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/agenthost_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# A server counts as idle once it burns less than this share of one core.
IDLE_CPU_SHARE = 0.1
SETTLE_MAX_SECONDS = 10.0
WARM_UP_EVENTS = 200


@dataclass
class Record:
    """One scenario, one server, one repetition."""

    scenario: str
    server: str
    rep: int
    outcome: Outcome
    server_cpu_s: float
    client_cpu_s: float
    wall_s: float


@dataclass
class Results:
    records: list[Record] = field(default_factory=list)

    def of(self, scenario: str, server: str) -> list[Record]:
        return [r for r in self.records if r.scenario == scenario and r.server == server]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare",
        description="Benchmark agenthost against LangGraph's own server, interleaved.",
    )
    parser.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument(
        "--targets",
        default=f"{OURS},{PEER}",
        help=f"comma-separated subset of {OURS},{PEER} (default: both)",
    )
    sizes = Sizes()
    parser.add_argument("--latency-samples", type=int, default=sizes.latency_samples)
    parser.add_argument("--latency-jitter", type=float, default=sizes.latency_jitter)
    parser.add_argument("--single-n", type=int, default=sizes.single_n)
    parser.add_argument("--streams", type=int, default=sizes.streams)
    parser.add_argument("--stream-n", type=int, default=sizes.stream_n)
    parser.add_argument("--resume-n", type=int, default=sizes.resume_n)
    parser.add_argument("--resume-cut", type=int, default=sizes.resume_cut)
    parser.add_argument(
        "--timeout",
        type=float,
        default=300,
        help="seconds one scenario may take on one server (default 300)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=60,
        help="seconds a stream may stay silent before it counts as failed (default 60)",
    )
    parser.add_argument(
        "--peer-venv",
        default=os.environ.get("PEER_VENV"),
        help="venv with langgraph-cli[inmem] for the peer (default: $PEER_VENV)",
    )
    parser.add_argument(
        "--peer-dir",
        default=os.environ.get("PEER_DIR") or str(REPO.parent / "shared" / "bench" / "peer"),
        help="directory with start_peer.sh, langgraph.json and bench_graph.py "
        "(default: $PEER_DIR or ../shared/bench/peer)",
    )
    parser.add_argument("--peer-jobs", type=int, default=10, help="peer runs at once (10)")
    parser.add_argument(
        "--worker-concurrency", type=int, default=10, help="Celery worker threads (10)"
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
    parser.add_argument(
        "--py-spy",
        nargs="?",
        const="gil",
        choices=["gil", "all"],
        help="sample every server process with py-spy into the results directory: "
        "'gil' (the default) only threads holding the GIL, i.e. Python CPU time; "
        "'all' every thread that is not idle, waits on sockets included",
    )
    parser.add_argument(
        "--results-dir",
        default=str(REPO / "bench" / "results"),
        help="where logs and results.json go (default bench/results, git-ignored)",
    )
    args = parser.parse_args(argv)
    problems = validate(args)
    if problems:
        parser.error("; ".join(problems))
    return args


def validate(args: argparse.Namespace) -> list[str]:
    """Everything is bounded: counts, sizes and times."""
    problems = []
    bounds = {
        "reps": (1, 50),
        "latency_samples": (1, 100),
        "single_n": (1, 1_000_000),
        "streams": (1, 500),
        "stream_n": (1, 100_000),
        "resume_n": (2, 1_000_000),
        "peer_jobs": (1, 100),
        "worker_concurrency": (1, 100),
    }
    for name, (low, high) in bounds.items():
        if not low <= getattr(args, name) <= high:
            problems.append(f"--{name.replace('_', '-')} must be within {low}..{high}")
    if not 1 <= args.resume_cut < args.resume_n:
        problems.append("--resume-cut must be at least 1 and below --resume-n")
    if not 0 < args.timeout <= 3600 or not 0 < args.idle_timeout <= 600:
        problems.append("--timeout must be within (0, 3600] and --idle-timeout within (0, 600]")
    if not 0 <= args.latency_jitter <= 10:
        problems.append("--latency-jitter must be within 0..10 seconds")
    unknown = (set(split(args.scenarios)) - set(SCENARIOS)) | (
        set(split(args.targets)) - {OURS, PEER}
    )
    if unknown:
        problems.append(f"unknown scenario or target: {', '.join(sorted(unknown))}")
    if PEER in split(args.targets) and not args.peer_venv:
        problems.append("the peer needs --peer-venv or PEER_VENV (see bench/README.md)")
    return problems


def split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, with the environment it depends on."""
    env = [
        f"{name}={shlex.quote(os.environ[name])}"
        for name in ("PEER_VENV", "PEER_DIR", "DATABASE_URL", "REDIS_URL")
        if os.environ.get(name)
    ]
    python = Path(sys.executable)
    if python.is_relative_to(REPO):
        python = python.relative_to(REPO)
    argv = [str(python), "-m", "bench.compare", *sys.argv[1:]]
    return f"cd {shlex.quote(str(REPO))} && " + " ".join([*env, shlex.join(argv)])


async def settle(servers: Sequence[Server]) -> None:
    """Wait until no server is still busy with earlier work (archiving, cleanup)."""
    interval = 0.2
    deadline = time.monotonic() + SETTLE_MAX_SECONDS
    before = [server.cpu_seconds() for server in servers]
    while time.monotonic() < deadline:
        await asyncio.sleep(interval)
        after = [server.cpu_seconds() for server in servers]
        if all(b - a < IDLE_CPU_SHARE * interval for a, b in zip(before, after, strict=True)):
            return
        before = after


async def warm_up(server: Server, client: Client) -> None:
    """One small run per server first: graph imports, connections and caches are not measured."""
    thread_id = await thread_create(client)
    result = await run_stream(client, thread_id=thread_id, n=WARM_UP_EVENTS)
    problem = incomplete(result, WARM_UP_EVENTS)
    if problem:
        raise RuntimeError(f"{server.target.name} fails a {WARM_UP_EVENTS}-event run: {problem}")


async def measure_once(
    scenario: Scenario,
    server: Server,
    client: Client,
    sizes: Sizes,
    rep: int,
    time_limit: float,
) -> Record:
    cpu_before, client_before, started = (
        server.cpu_seconds(),
        time.process_time(),
        time.perf_counter(),
    )
    try:
        async with asyncio.timeout(time_limit):
            outcome = await scenario.measure(client, sizes)
    except TimeoutError:
        outcome = Outcome(error=f"did not finish within {time_limit:.0f} s")
    except (OSError, ProtocolError, RequestFailed, ValueError, KeyError) as exc:
        outcome = Outcome(error=f"{type(exc).__name__}: {exc}")
    return Record(
        scenario=scenario.name,
        server=server.target.name,
        rep=rep,
        outcome=outcome,
        server_cpu_s=server.cpu_seconds() - cpu_before,
        client_cpu_s=time.process_time() - client_before,
        wall_s=time.perf_counter() - started,
    )


async def run_benchmark(
    servers: list[Server], scenarios: list[Scenario], sizes: Sizes, args: argparse.Namespace
) -> Results:
    results = Results()
    clients = {s.target.name: Client(s.target, idle_timeout=args.idle_timeout) for s in servers}
    for server in servers:
        # Heartbeats keep a stuck stream from ever going silent, so bound it as a whole.
        try:
            async with asyncio.timeout(args.timeout):
                await warm_up(server, clients[server.target.name])
        except TimeoutError:
            raise RuntimeError(
                f"{server.target.name}: the warm-up run did not finish in {args.timeout:.0f} s"
            ) from None
    for rep in range(args.reps):
        for scenario in scenarios:
            order = servers if rep % 2 == 0 else servers[::-1]
            for server in order:
                await settle(servers)
                record = await measure_once(
                    scenario, server, clients[server.target.name], sizes, rep, args.timeout
                )
                results.records.append(record)
                print(progress_line(record, scenario, args.reps), flush=True)
    return results


def progress_line(record: Record, scenario: Scenario, reps: int) -> str:
    outcome = record.outcome
    if outcome.error:
        figure = f"FAILED: {outcome.error}"
    elif scenario.kind == "integrity":
        figure = f"lost {outcome.lost}, duplicated {outcome.duplicated}"
    else:
        figure = ", ".join(number(v, scenario.unit) for v in outcome.values)
        if outcome.secondary:
            whole = ", ".join(number(v, scenario.unit) for v in outcome.secondary)
            figure += f" ({whole} from the POST)"
    return (
        f"rep {record.rep + 1}/{reps}  {scenario.name:<11} {record.server:<9}  {figure}"
        f"  [server cpu {record.server_cpu_s:.1f} s, client cpu {record.client_cpu_s:.1f} s,"
        f" wall {record.wall_s:.1f} s{'; ' + outcome.note if outcome.note else ''}]"
    )


def number(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}" if unit == "ms" else f"{value:,.0f} {unit}"


def summary(
    results: Results, scenarios: list[Scenario], servers: list[str], sizes: Sizes
) -> list[str]:
    """The table: medians per server, and the ratio and the target when both servers ran."""
    both = servers == [OURS, PEER]
    rows = [["", *servers, *(["ratio", "target"] if both else [])]]
    for scenario in scenarios:
        records = {name: results.of(scenario.name, name) for name in servers}
        title = scenario.title.format(**asdict(sizes))
        if scenario.kind == "integrity":
            rows.append([title, *(integrity_cell(records[name]) for name in servers)])
            if both:
                ours = [r.outcome for r in records[OURS] if not r.outcome.error]
                clean = bool(ours) and not any(o.lost or o.duplicated for o in ours)
                rows[-1] += ["", f"0 / 0 {'ok' if clean else 'MISSED'}"]
            continue
        rows.append(figure_row(title, scenario, records, lambda o: o.values, both))
        if scenario.secondary_title:
            title = scenario.secondary_title.format(**asdict(sizes))
            rows.append(figure_row(title, scenario, records, lambda o: o.secondary, both))
            if both:
                rows[-1][-1] = ""  # the target applies to the headline figure only
    cpu = "; ".join(
        f"{scenario.name} "
        + " vs ".join(
            f"{statistics.median(r.server_cpu_s for r in results.of(scenario.name, name)):.1f}"
            for name in servers
        )
        for scenario in scenarios
    )
    return [*table(rows), f"median server CPU seconds per repetition: {cpu}"]


def figure_row(
    title: str,
    scenario: Scenario,
    records: dict[str, list[Record]],
    pick: Callable[[Outcome], list[float]],
    both: bool,
) -> list[str]:
    medians: dict[str, float] = {}
    row = [title]
    for name, recs in records.items():
        values = [v for r in recs if not r.outcome.error for v in pick(r.outcome)]
        if values:
            medians[name] = statistics.median(values)
        failed = sum(1 for r in recs if r.outcome.error)
        cell = number(medians[name], scenario.unit) if values else "-"
        row.append(cell + (f" ({failed} failed)" if failed else ""))
    if both:
        row += ratio_cells(scenario, medians)
    return row


def integrity_cell(records: list[Record]) -> str:
    ok = [r.outcome for r in records if not r.outcome.error]
    failed = len(records) - len(ok)
    cell = f"{sum(o.lost for o in ok)} / {sum(o.duplicated for o in ok)}" if ok else "-"
    return cell + (f" ({failed} failed)" if failed else "")


def ratio_cells(scenario: Scenario, medians: dict[str, float]) -> list[str]:
    ours, peer = medians.get(OURS), medians.get(PEER)
    if not ours or not peer:
        return ["-", ""]
    ratio = ours / peer if scenario.kind == "rate" else peer / ours
    label = f"{ratio:.2f}x" + (" faster" if scenario.kind == "latency" else "")
    verdict = "ok" if ratio >= scenario.target else "MISSED"
    return [label, f">={scenario.target:g}x {verdict}"]


def table(rows: list[list[str]]) -> list[str]:
    """Rows as aligned text: the first column to the left, the others to the right."""
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def terminate(signum: int, frame: object) -> NoReturn:
    # Turn SIGTERM into an exception so every `finally` stops the servers.
    raise SystemExit(128 + signum)


def measure(
    args: argparse.Namespace,
    targets: list[str],
    scenarios: list[Scenario],
    sizes: Sizes,
    workdir: Path,
) -> Results:
    """Start the servers, run the interleaved repetitions, stop the servers."""
    peer_dir = Path(args.peer_dir).resolve()
    with ExitStack() as stack:
        servers = []
        if OURS in targets:
            config = AgenthostConfig(
                database_url=args.database_url,
                redis_url=args.redis_url,
                graphs=peer_dir / "langgraph.json",
                worker_concurrency=args.worker_concurrency,
            )
            servers.append(stack.enter_context(agenthost_server(config, workdir)))
        if PEER in targets:
            peer = PeerConfig(venv=Path(args.peer_venv), directory=peer_dir, jobs=args.peer_jobs)
            servers.append(stack.enter_context(langgraph_server(peer, workdir)))
        print("# servers: " + ", ".join(f"{s.target.name} {s.target.base_url}" for s in servers))
        if args.py_spy:
            stack.enter_context(
                profiling.recording(servers, workdir, gil_only=args.py_spy == "gil")
            )
        return asyncio.run(run_benchmark(servers, scenarios, sizes, args))


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, terminate)
    command = command_line(args)
    sizes = Sizes(
        latency_samples=args.latency_samples,
        latency_jitter=args.latency_jitter,
        single_n=args.single_n,
        streams=args.streams,
        stream_n=args.stream_n,
        resume_n=args.resume_n,
        resume_cut=args.resume_cut,
    )
    scenarios = [SCENARIOS[name] for name in split(args.scenarios)]
    targets = [name for name in (OURS, PEER) if name in split(args.targets)]
    workdir = Path(args.results_dir) / time.strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True)
    print(f"# {command}\n# logs and results.json: {workdir}", flush=True)
    try:
        results = measure(args, targets, scenarios, sizes, workdir)
    except (RuntimeError, RequestFailed, ProtocolError, OSError) as exc:
        print(f"bench: {exc}\n(logs in {workdir})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; every server it started is stopped", file=sys.stderr)
        return 130
    table = summary(results, scenarios, targets, sizes)
    report = [
        "",
        f"== {' vs '.join(targets)}: medians of {args.reps} interleaved repetitions"
        f" ({os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')})",
        *table,
        f"command: {command}",
    ]
    print("\n".join(report))
    (workdir / "results.json").write_text(
        json.dumps(
            {
                "command": command,
                "sizes": asdict(sizes),
                "records": [asdict(r) for r in results.records],
                "summary": table,
            },
            indent=1,
        )
    )
    return 0 if all(not r.outcome.error for r in results.records) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
