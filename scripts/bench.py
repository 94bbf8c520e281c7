"""`make bench`: the assistant under load, measured against a stock `rasa init` assistant.

Both are driven the same way over the REST channel: CONCURRENCY patients at once, each going through a
whole conversation (5 messages, each sent when the previous reply arrived), then one patient alone.
Reports p50/p95/p99 latency, throughput, errors and peak memory (resident set of all server processes),
prints our figures as ratios to the stock assistant's and writes results/bench.json.

    make bench                                   # 20 concurrent patients, 150 conversations
    BENCH_STOCK_DIR=var/bench-stock make bench   # keep the trained stock assistant between runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from clinic.config import child_environment  # noqa: E402
from clinic.testing.servers import API_TOKEN, RunningAssistant, free_port, stop_process, wait_until  # noqa: E402

BIN = Path(sys.executable).parent

# Realistic triage conversations (5 messages each), cycled through by the simulated patients.
CLINIC_FLOWS = [
    ["hi", "I have a hard white bump under my eye, no pus", "can I squeeze it?", "no thanks", "bye"],
    ["I have a whitehead", "it's soft", "yes there's pus", "on my chin", "thanks"],
    ["what are milia?", "there's a white spot on my cheek", "not sure", "no fluid", "forehead"],
    ["hello", "a little white bump on my nose", "it's hard", "can I pop it myself?", "no"],
]
# The stock assistant's (moodbot) conversations, the same length.
STOCK_FLOWS = [
    ["hi", "I am sad", "yes", "bye", "are you a bot?"],
    ["hello", "I'm feeling very unhappy", "no", "goodbye", "am I talking to a human?"],
    ["hey", "great", "thanks", "see you", "are you a bot?"],
    ["good morning", "I am feeling great", "perfect", "bye", "hey"],
]
TARGETS = {"p95_ratio_max": 1.5, "throughput_ratio_min": 0.7, "single_p50_ms_max": 60.0}


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def process_children() -> Dict[int, List[int]]:
    """Every running process's children, by parent pid (from /proc)."""
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (from /proc)."""
    children = process_children()
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class MemoryWatch:
    """Samples the servers' total resident memory in a thread; keeps the peak."""

    def __init__(self, pids: List[int]) -> None:
        self.pids = pids
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(_tree_rss_bytes(pid) for pid in self.pids))
            self._stop.wait(0.2)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


async def _conversation(client: httpx.AsyncClient, url: str, flow: List[str], latencies: List[float],
                        errors: List[str]) -> None:
    sender = f"bench-{uuid.uuid4().hex[:12]}"
    for text in flow:
        started = time.perf_counter()
        try:
            response = await client.post(url, json={"sender": sender, "message": text})
            ok = response.status_code == 200 and any(m.get("text") for m in response.json())
            if not ok:
                errors.append(f"{response.status_code}: {response.text[:100]}")
        except httpx.HTTPError as error:
            errors.append(type(error).__name__)
        latencies.append((time.perf_counter() - started) * 1000)


async def drive(url: str, flows: List[List[str]], conversations: int, concurrency: int) -> Dict:
    """Run `conversations` conversations, `concurrency` at a time; return the figures."""
    latencies: List[float] = []
    errors: List[str] = []
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(index: int) -> None:
            async with gate:
                await _conversation(client, url, flows[index % len(flows)], latencies, errors)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(conversations)))
        elapsed = time.perf_counter() - started
    return {
        "conversations": conversations,
        "concurrency": concurrency,
        "messages": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
        "seconds": round(elapsed, 2),
        "throughput_msgs_per_s": round(len(latencies) / elapsed, 2),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
    }


def measure(name: str, url: str, pids: List[int], flows: List[List[str]], args: argparse.Namespace) -> Dict:
    """Warm up, then the concurrent run and the single-patient run, with peak memory."""
    print(f"[{name}] warming up ...", flush=True)
    asyncio.run(drive(url, flows, conversations=len(flows) * 2, concurrency=len(flows)))
    print(f"[{name}] {args.conversations} conversations, {args.concurrency} at a time ...", flush=True)
    with MemoryWatch(pids) as memory:
        concurrent = asyncio.run(drive(url, flows, args.conversations, args.concurrency))
    print(f"[{name}] one patient at a time ...", flush=True)
    single = asyncio.run(drive(url, flows, args.single_conversations, 1))
    return {
        "concurrent": concurrent,
        "single": single,
        "peak_memory_mb": round(memory.peak / 2**20, 1),
        "idle_memory_mb": round(sum(_tree_rss_bytes(p) for p in pids) / 2**20, 1),
    }


def _stock_project(args: argparse.Namespace) -> Path:
    """A `rasa init --no-prompt` project trained with the same Rasa (kept in BENCH_STOCK_DIR if set)."""
    cached = os.environ.get("BENCH_STOCK_DIR")
    project = Path(cached).resolve() if cached else Path(tempfile.mkdtemp(prefix="bench-stock-"))
    if list((project / "models").glob("*.tar.gz")):
        return project
    project.mkdir(parents=True, exist_ok=True)
    print(f"[stock] rasa init --no-prompt in {project} (trains a model: minutes) ...", flush=True)
    subprocess.run(
        [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(project)],
        cwd=project, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=child_environment(RASA_TELEMETRY_ENABLED="false"),
    )
    return project


def run_stock(args: argparse.Namespace) -> Dict:
    """Start the stock assistant as `rasa init` leaves it, measure it, stop it."""
    project = _stock_project(args)
    model = sorted((project / "models").glob("*.tar.gz"))[-1]
    port = free_port()
    log = open(project / "bench-rasa.log", "wb")
    process = subprocess.Popen(
        [str(BIN / "rasa"), "run", "--model", str(model), "--port", str(port), "--enable-api",
         "--auth-token", API_TOKEN],
        cwd=project, stdout=log, stderr=subprocess.STDOUT,
        env=child_environment(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3"),
    )
    try:
        wait_until(
            lambda: httpx.get(f"http://127.0.0.1:{port}/status", params={"token": API_TOKEN}).json().get(
                "model_file"),
            300, "stock Rasa server", lambda: process.poll() is None,
        )
        return measure("stock", f"http://127.0.0.1:{port}/webhooks/rest/webhook", [process.pid],
                       STOCK_FLOWS, args)
    finally:
        stop_process(process, timeout=30)
        if not os.environ.get("BENCH_STOCK_DIR"):
            shutil.rmtree(project, ignore_errors=True)


def run_clinic(args: argparse.Namespace) -> Dict:
    """Start our assistant as `make run` does (action server, SQLite tracker store), measure it."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-clinic-"))
    # 20 simulated patients share one address: the per-address limit would (rightly) stop them.
    assistant = RunningAssistant(workdir=workdir, extra_env={"RATE_LIMIT_PER_IP": "0"})
    try:
        assistant.start(timeout=300)
        pids = [p.pid for p in assistant.processes]
        return measure("clinic", assistant.url + "/webhooks/rest/webhook", pids, CLINIC_FLOWS, args)
    finally:
        assistant.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def ratios(ours: Dict, stock: Dict) -> Dict:
    """Our figures divided by the stock assistant's."""
    c, s = ours["concurrent"], stock["concurrent"]
    return {
        "p50": round(c["p50_ms"] / s["p50_ms"], 2),
        "p95": round(c["p95_ms"] / s["p95_ms"], 2),
        "p99": round(c["p99_ms"] / s["p99_ms"], 2),
        "throughput": round(c["throughput_msgs_per_s"] / s["throughput_msgs_per_s"], 2),
        "single_p50": round(ours["single"]["p50_ms"] / stock["single"]["p50_ms"], 2),
        "peak_memory": round(ours["peak_memory_mb"] / stock["peak_memory_mb"], 2),
    }


def main(argv: Optional[List[str]] = None) -> int:
    """Run the benchmark; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", 20)))
    parser.add_argument("--conversations", type=int, default=int(os.environ.get("BENCH_CONVERSATIONS", 150)))
    parser.add_argument("--single-conversations", type=int, default=10)
    parser.add_argument("--skip-stock", action="store_true", help="measure only our assistant")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench.json"))
    args = parser.parse_args(argv)

    ours = run_clinic(args)
    stock = None if args.skip_stock else run_stock(args)
    result = {
        "rasa": subprocess.run([str(BIN / "rasa"), "--version"], capture_output=True, text=True).stdout.split(
            "\n")[0],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_after": os.getloadavg()},
        "clinic": ours,
        "stock": stock,
        "targets": TARGETS,
    }
    lines = [
        f"{'':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'msg/s':>7} {'errors':>6} {'peak MB':>8} "
        f"{'single p50':>10}"
    ]
    for name, figures in (("clinic", ours), ("stock", stock)):
        if figures:
            c = figures["concurrent"]
            lines.append(
                f"{name:>10} {c['p50_ms']:>8} {c['p95_ms']:>8} {c['p99_ms']:>8} "
                f"{c['throughput_msgs_per_s']:>7} {c['errors']:>6} {figures['peak_memory_mb']:>8} "
                f"{figures['single']['p50_ms']:>10}"
            )
    met = ours["single"]["p50_ms"] <= TARGETS["single_p50_ms_max"] and ours["concurrent"]["errors"] == 0
    if stock:
        result["ratios"] = r = ratios(ours, stock)
        result["targets_met"] = {
            "p95": r["p95"] <= TARGETS["p95_ratio_max"],
            "throughput": r["throughput"] >= TARGETS["throughput_ratio_min"],
            "single_p50": ours["single"]["p50_ms"] <= TARGETS["single_p50_ms_max"],
            "no_errors": ours["concurrent"]["errors"] == 0,
        }
        met = all(result["targets_met"].values())
        lines.append(
            f"{'ratio':>10} {r['p50']:>8} {r['p95']:>8} {r['p99']:>8} {r['throughput']:>7} {'':>6} "
            f"{r['peak_memory']:>8} {r['single_p50']:>10}"
        )
        lines.append(
            f"targets: p95 ratio {r['p95']} <= {TARGETS['p95_ratio_max']}, throughput ratio "
            f"{r['throughput']} >= {TARGETS['throughput_ratio_min']}, single p50 "
            f"{ours['single']['p50_ms']} ms <= {TARGETS['single_p50_ms_max']} ms: "
            f"{'MET' if met else 'MISSED'}"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print("\n".join(lines))
    print(f"written to {args.out}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
