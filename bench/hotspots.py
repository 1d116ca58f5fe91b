"""Summarise a py-spy collapsed-stack file: where the sampled CPU time went.

    .venv/bin/python -m bench.hotspots bench/results/<time>/py-spy-agenthost-<pid>.folded

"self" is time spent in the frame itself; "total" includes what it called. Frames are
``function (file:line)`` as py-spy writes them; ``--by-function`` drops the line number,
``--match apps/`` lists totals for our own frames only.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

LINE_NUMBER = re.compile(r":\d+\)$")


def read_stacks(path: Path, *, by_function: bool) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if not frames or not count.isdigit():
            continue
        names = frames.split(";")
        if by_function:
            names = [LINE_NUMBER.sub(")", name) for name in names]
        stacks.append((names, int(count)))
    return stacks


def summarise(stacks: list[tuple[list[str], int]], top: int, match: str) -> list[str]:
    total_samples = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        own[frames[-1]] += count
        for frame in set(frames):
            if match in frame:
                inclusive[frame] += count
    lines = [f"{total_samples} samples"]
    only = f", frames matching {match!r}" if match else ""
    for title, counter in (("self time", own), (f"total time{only}", inclusive)):
        lines.append(f"-- top {top} by {title}")
        lines += [
            f"{100 * count / total_samples:6.1f}%  {frame}"
            for frame, count in counter.most_common(top)
        ]
    return lines


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--by-function", action="store_true")
    parser.add_argument(
        "--match", default="", help="list totals only for frames containing this, e.g. apps/"
    )
    args = parser.parse_args(argv)
    for path in args.files:
        print(f"== {path}")
        stacks = read_stacks(path, by_function=args.by_function)
        print("\n".join(summarise(stacks, args.top, args.match)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
