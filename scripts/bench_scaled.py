"""`make bench-scaled`: the scale-out profile measured through nginx, 1 Rasa server and then 2, in one run.

Each round starts the real `scripts/run-scaled.sh` (private PostgreSQL tracker store and clinic database,
Redis lock store, nginx in front; tests/integration/supervised.py) with RASA_INSTANCES=1, then 2, and drives
CONCURRENCY patients at once through the proxy's REST channel, each through a whole triage conversation
(scripts/bench.py's flows, each message sent when the previous reply arrived). Afterwards every
conversation's tracker is read back: its messages all there, once, in the order sent, each turn whole.
Also reported: where nginx sent the requests, and the CPU seconds each process used during the round
(what limits the throughput), with the machine's CPU use by everything else.

    make bench-scaled                                     # 20 at a time, 150 conversations per round
    BENCH_CONCURRENCY=20 BENCH_CONVERSATIONS=100 make bench-scaled
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scripts.bench import CLINIC_FLOWS, percentile, process_children  # noqa: E402
from tests.integration.supervised import SupervisedRun, service_ports  # noqa: E402

TARGETS = {"throughput_ratio_min": 1.4, "p95_ratio_max": 1.0}
CLOCK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int, children: Dict[int, List[int]]) -> float:
    """CPU seconds used by a process and its descendants (live ones, and those it has waited for)."""
    total, todo, first = 0.0, [pid], True
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLOCK  # utime + stime
        if first:
            total += (int(fields[13]) + int(fields[14])) / CLOCK  # cutime + cstime: children reaped
        first = False
    return total


def machine_cpu() -> Tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / CLOCK, sum(fields) / CLOCK


def postmaster_pid(run: SupervisedRun) -> Optional[int]:
    """The private PostgreSQL's postmaster (its data directory is in var/scaled/postgres-dir)."""
    try:
        directory = (run.workdir / "scaled" / "postgres-dir").read_text().strip()
        return int((Path(directory) / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class Processes:
    """The CPU seconds of every supervised program and PostgreSQL, between `start()` and `stop()`."""

    def __init__(self, run: SupervisedRun) -> None:
        self.run = run
        self.pids: Dict[str, int] = {}
        for line in run.supervisorctl("status").splitlines():
            if " pid " in line:
                self.pids[line.split()[0]] = int(line.split(" pid ")[1].split(",")[0])
        postgres = postmaster_pid(run)
        if postgres:
            self.pids["postgresql"] = postgres

    def sample(self) -> Dict[str, float]:
        """CPU seconds so far, by program."""
        children = process_children()
        return {name: tree_cpu_seconds(pid, children) for name, pid in self.pids.items()}


async def conversation(client: httpx.AsyncClient, url: str, sender: str, flow: List[str],
                       latencies: List[float], errors: List[str]) -> None:
    """One patient's conversation, each message when the previous reply has arrived."""
    for text in flow:
        started = time.perf_counter()
        try:
            response = await client.post(url, json={"sender": sender, "message": text})
            if response.status_code != 200 or not any(m.get("text") for m in response.json()):
                errors.append(f"{response.status_code}: {response.text[:100]}")
        except httpx.HTTPError as error:
            errors.append(type(error).__name__)
        latencies.append((time.perf_counter() - started) * 1000)


async def drive(url: str, conversations: int, concurrency: int, prefix: str) -> Dict:
    """`conversations` conversations, `concurrency` at a time; latencies, throughput, who said what."""
    latencies: List[float] = []
    errors: List[str] = []
    sent: Dict[str, List[str]] = {}
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(index: int) -> None:
            sender = f"{prefix}-{uuid.uuid4().hex[:12]}"
            sent[sender] = CLINIC_FLOWS[index % len(CLINIC_FLOWS)]
            async with gate:
                await conversation(client, url, sender, sent[sender], latencies, errors)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(conversations)))
        elapsed = time.perf_counter() - started
    return {
        "conversations": conversations, "concurrency": concurrency, "messages": len(latencies),
        "errors": len(errors), "error_samples": errors[:5], "seconds": round(elapsed, 2),
        "throughput_msgs_per_s": round(len(latencies) / elapsed, 2),
        "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1), "sent": sent,
    }


def check_order(rasa_url: str, token: str, sent: Dict[str, List[str]]) -> List[str]:
    """Every conversation's user messages exactly as sent, in order, each turn ending in one action_listen."""
    problems = []
    with httpx.Client(timeout=60) as client:
        for sender, flow in sent.items():
            # ALL: also the events before a restart (a finished triage may restart the conversation).
            params = {"token": token, "include_events": "ALL"}
            events = client.get(f"{rasa_url}/conversations/{sender}/tracker", params=params).json()["events"]
            users = [e.get("text") for e in events if e["event"] == "user"]
            if users != flow:
                problems.append(f"{sender}: messages {users} != sent {flow}")
                continue
            turns: List[List[Dict]] = []
            for event in events:
                if event["event"] == "user":
                    turns.append([])
                elif turns:
                    turns[-1].append(event)
            for number, turn in enumerate(turns):
                listens = [e for e in turn if e["event"] == "action" and e["name"] == "action_listen"]
                answered = any(e["event"] == "bot" for e in turn)
                if not (len(listens) == 1 and turn[-1] is listens[0] and answered):
                    problems.append(f"{sender}: turn {number} is not whole")
    return problems


def upstreams(access_log: Path, since: int) -> Dict[str, int]:
    """How many REST requests nginx sent to each Rasa server (its access log, from byte `since`)."""
    counts: Dict[str, int] = collections.Counter()
    with access_log.open() as log:
        log.seek(since)
        for line in log:
            if "/webhooks/rest/webhook" in line:
                parts = line.split('" ', 1)[1].split()
                counts[parts[3]] += 1  # status, bytes, request time, upstream address
    return dict(counts)


def one_round(instances: int, args: argparse.Namespace) -> Dict:
    """Start run-scaled.sh with `instances` Rasa servers, measure, check, stop."""
    names = ("PROXY_PORT", "PROXY_TLS_PORT", "ACTION_SERVER_PORT", "WEB_PORT")
    ports = dict(zip(names, service_ports(4), strict=True))
    ports["RASA_PORT"] = args.rasa_port  # fixed: the servers' ports must be consecutive
    env = {name: str(port) for name, port in ports.items()}
    # 20 simulated patients share one address: the per-address limit would (rightly) stop them.
    env.update(RASA_INSTANCES=str(instances), DATABASE_URL="", TRACKER_STORE_URL="", LOCK_STORE_URL="",
               RATE_LIMIT_PER_IP="0")
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-scaled-{instances}-", dir="/tmp"))
    run = SupervisedRun("run-scaled.sh", workdir, env).start()
    proxy = f"http://127.0.0.1:{ports['PROXY_PORT']}"
    rasa = f"http://127.0.0.1:{ports['RASA_PORT']}"
    try:
        print(f"[{instances} Rasa] starting run-scaled.sh (logs in {workdir}/log) ...", flush=True)
        run.wait_for(f"{proxy}/health", 300, "web app through the proxy")
        for offset in range(instances):
            status = f"http://127.0.0.1:{args.rasa_port + offset}/status?token={run.api_token}"
            run.wait_for(status, 600, "Rasa")
        url = f"{proxy}/webhooks/rest/webhook"
        print(f"[{instances} Rasa] warming up ...", flush=True)
        asyncio.run(drive(url, instances * 8, args.concurrency, "warm"))
        processes = Processes(run)
        access_log = workdir / "log" / "nginx-access.log"
        offset = access_log.stat().st_size
        before, machine_before, client_before = processes.sample(), machine_cpu(), time.process_time()
        print(f"[{instances} Rasa] {args.conversations} conversations, {args.concurrency} at a time ...",
              flush=True)
        figures = asyncio.run(drive(url, args.conversations, args.concurrency, f"scaled{instances}"))
        after, machine_after = processes.sample(), machine_cpu()
        seconds = figures["seconds"]
        cpu = {name: round(after[name] - before.get(name, 0.0), 1) for name in after}
        cpu["bench client"] = round(time.process_time() - client_before, 1)  # the simulated patients
        busy = machine_after[0] - machine_before[0]
        figures["cpu_seconds"] = cpu
        figures["cpu_share_of_round"] = {name: round(value / seconds, 2) for name, value in cpu.items()}
        figures["machine_busy_cores"] = round(busy / seconds, 2)
        figures["others_busy_cores"] = round(max(busy - sum(cpu.values()), 0) / seconds, 2)
        figures["load_average_after"] = os.getloadavg()
        time.sleep(1)  # nginx writes a request's log line once it is done
        figures["upstreams"] = upstreams(access_log, offset)
        print(f"[{instances} Rasa] reading back {len(figures['sent'])} conversations ...", flush=True)
        figures["order_problems"] = check_order(rasa, run.api_token, figures.pop("sent"))
        return figures
    finally:
        run.stop()


def main(argv: Optional[List[str]] = None) -> int:
    """Both rounds, the table and the ratios; exit 1 if anything was lost or reordered, or a target missed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=int(os.environ.get("BENCH_CONCURRENCY", 20)))
    parser.add_argument("--conversations", type=int, default=int(os.environ.get("BENCH_CONVERSATIONS", 150)))
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("BENCH_RASA_PORT", 17305)))
    parser.add_argument("--out", default=str(ROOT / "results" / "bench-scaled.json"))
    args = parser.parse_args(argv)

    rounds = {n: one_round(n, args) for n in (1, 2)}
    one, two = rounds[1], rounds[2]
    ratios = {
        "throughput": round(two["throughput_msgs_per_s"] / one["throughput_msgs_per_s"], 2),
        "p95": round(two["p95_ms"] / one["p95_ms"], 2),
        "p50": round(two["p50_ms"] / one["p50_ms"], 2),
    }
    intact = all(not r["order_problems"] and r["errors"] == 0 for r in rounds.values())
    met = {"throughput": ratios["throughput"] >= TARGETS["throughput_ratio_min"],
           "p95": ratios["p95"] <= TARGETS["p95_ratio_max"], "nothing_lost_or_reordered": intact}
    result = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "rounds": rounds, "ratios": ratios, "targets": TARGETS, "targets_met": met}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))

    print(f"\n{'Rasa':>5} {'msg/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} "
          f"{'in order':>9} {'machine cores busy (others)':>28}")
    for n, r in rounds.items():
        print(f"{n:>5} {r['throughput_msgs_per_s']:>7} {r['p50_ms']:>8} {r['p95_ms']:>8} {r['p99_ms']:>8} "
              f"{r['errors']:>6} {'yes' if not r['order_problems'] else 'NO':>9} "
              f"{r['machine_busy_cores']:>20} ({r['others_busy_cores']})")
    for n, r in rounds.items():
        busiest = sorted(r["cpu_share_of_round"].items(), key=lambda kv: -kv[1])
        shares = ", ".join(f"{k} {v}" for k, v in busiest)
        print(f"  {n} Rasa: CPU cores used per process: {shares}; requests per Rasa server: {r['upstreams']}")
        for problem in r["order_problems"][:5]:
            print(f"  {n} Rasa: {problem}")
    print(f"ratios 2/1: throughput {ratios['throughput']} (target >= {TARGETS['throughput_ratio_min']}), "
          f"p95 {ratios['p95']} (target <= {TARGETS['p95_ratio_max']}), p50 {ratios['p50']}; "
          f"nothing lost or reordered: {'yes' if intact else 'NO'}")
    print(f"written to {args.out}")
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
