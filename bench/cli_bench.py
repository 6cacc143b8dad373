"""How fast the `annotator` command starts, as a new user meets it.

For each `annotator` executable given (this checkout's by default; pass an older install's
too, and the runs interleave so both see the same machine), in a fresh instance folder:

- `annotator --help`;
- `annotator users list` on a migrated, empty SQLite database;
- `annotator quickstart --no-serve` from an empty folder (init, import seeds/, accounts);
- `annotator serve` until `GET /login` answers 200.

Prints the median and the slowest of --runs runs per command and executable, and the ratio of
each median to the first executable's.

    python bench/cli_bench.py [--runs 7] [--annotator PATH ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(sys.executable).parent / "annotator"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(instance: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANNOTATOR_")}
    return env | {"ANNOTATOR_INSTANCE": str(instance), "ANNOTATOR_SECRET_KEY": "bench"}


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def serve_until_login(annotator: str, env: dict) -> float:
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen([annotator, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - started
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError(f"{annotator} serve exited with {server.returncode}") from None
                time.sleep(0.01)
    finally:
        server.terminate()
        server.wait()


def one_round(annotator: str, scratch: Path) -> dict[str, float]:
    fresh = scratch / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir()
    figures = {"--help": timed([annotator, "--help"], environment(fresh))}
    figures["quickstart --no-serve (empty)"] = timed([annotator, "quickstart", "--no-serve"], environment(fresh))
    empty = scratch / "empty"
    if not empty.exists():
        empty.mkdir()
        subprocess.run([annotator, "init"], env=environment(empty), check=True, stdout=subprocess.DEVNULL)
    figures["users list"] = timed([annotator, "users", "list"], environment(empty))
    figures["serve → /login 200"] = serve_until_login(annotator, environment(fresh))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--annotator", action="append", help="an `annotator` executable (repeatable)")
    args = parser.parse_args()
    executables = args.annotator or [str(HERE)]

    samples: dict[str, dict[str, list[float]]] = {exe: {} for exe in executables}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):
            for number, exe in enumerate(executables):
                scratch = Path(folder, str(number))
                scratch.mkdir(exist_ok=True)
                for command, seconds in one_round(exe, scratch).items():
                    samples[exe].setdefault(command, []).append(seconds)

    print(f"# {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}, {args.runs} runs each")
    print("| command | " + " | ".join(f"{exe}: median (max) s" for exe in executables) + " | ratio |")
    print("|---|" + "---|" * (len(executables) + 1))
    first = executables[0]
    for command in samples[first]:
        medians = [statistics.median(samples[exe][command]) for exe in executables]
        cells = [f"{median:.2f} ({max(samples[exe][command]):.2f})" for exe, median in zip(executables, medians)]
        ratios = " / ".join(f"{median / medians[0]:.2f}" for median in medians)
        print(f"| {command} | " + " | ".join(cells) + f" | {ratios} |")


if __name__ == "__main__":
    main()
