"""`make bench-scaled`: the scale-out profile measured through nginx, 1 Rasa server and then 2, in one run.

Each round starts the real `scripts/run-scaled.sh` (private PostgreSQL tracker store and clinic database,
Redis lock store, nginx in front; clinic/testing/supervised.py) with RASA_INSTANCES=1, then 2, and drives
CONCURRENCY patients at once through the proxy's REST channel, each through a whole triage conversation
(scripts/bench.py's flows, each message sent when the previous reply arrived). Afterwards every
conversation's tracker is read back through every Rasa server: its messages all there, once, in the order
sent, each turn whole, and each turn's stored bot messages exactly the reply the patient got (a reply that
was sent but not stored, e.g. after a tracker store failure, counts). Also reported: where nginx sent the
requests, the CPU seconds each process used during the round (what limits the throughput), with the
machine's CPU use by everything else, and tracker store failures in the Rasa servers' logs.

    make bench-scaled                                     # 20 at a time, 150 conversations per round
    BENCH_CONCURRENCY=20 BENCH_CONVERSATIONS=100 make bench-scaled
    BENCH_PROFILE=results/profile make bench-scaled       # + py-spy stacks of each server (make tools)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from clinic.testing.supervised import SupervisedRun, service_ports  # noqa: E402
from scripts.bench import CLINIC_FLOWS, percentile, process_children  # noqa: E402

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


LISTEN = "action_listen"
Exchange = Tuple[str, List[Optional[str]]]  # a message sent, the texts of the bot's reply to it


async def conversation(client: httpx.AsyncClient, url: str, sender: str, flow: List[str],
                       exchanges: List[Exchange], latencies: List[float], errors: List[str]) -> None:
    """One patient's conversation, each message when the previous reply has arrived; what was said."""
    for text in flow:
        started = time.perf_counter()
        reply: List[Optional[str]] = []
        try:
            response = await client.post(url, json={"sender": sender, "message": text})
            if response.status_code == 200:
                reply = [message.get("text") for message in response.json()]
            if response.status_code != 200 or not any(reply):
                errors.append(f"{response.status_code}: {response.text[:100]}")
        except httpx.HTTPError as error:
            errors.append(type(error).__name__)
        latencies.append((time.perf_counter() - started) * 1000)
        exchanges.append((text, reply))


async def drive(url: str, conversations: int, concurrency: int, prefix: str) -> Dict:
    """`conversations` conversations, `concurrency` at a time; latencies, throughput, who said what."""
    latencies: List[float] = []
    errors: List[str] = []
    sent: Dict[str, List[Exchange]] = {}
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(index: int) -> None:
            sender = f"{prefix}-{uuid.uuid4().hex[:12]}"
            sent[sender] = []
            async with gate:
                flow = CLINIC_FLOWS[index % len(CLINIC_FLOWS)]
                await conversation(client, url, sender, flow, sent[sender], latencies, errors)

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


def conversation_problems(events: List[Dict], exchanges: List[Exchange]) -> List[str]:
    """What the tracker's events lack, compared with what the patient sent and got back; [] if nothing.

    Every message sent is there once, in order; each turn is whole (the bot's answer, then exactly one
    action_listen); and the bot's messages stored for each turn are exactly the reply the patient got,
    in order. A reply's first messages may come before its user event: those of a session start (the
    disclaimer), which Rasa runs, and stores, before it logs the message that started the session.
    """
    users = [e.get("text") for e in events if e["event"] == "user"]
    sent = [text for text, _ in exchanges]
    if not users:
        return [f"no user message stored ({len(events)} events: {[e['event'] for e in events][:6]}...)"]
    if users != sent:
        return [f"messages {users} != sent {sent}"]
    problems = []
    # Segments: the events before the first message, then after each message until the next one.
    segments: List[List[Dict]] = [[]]
    for event in events:
        if event["event"] == "user":
            segments.append([])
        else:
            segments[-1].append(event)
    head = [e.get("text") for e in segments[0] if e["event"] == "bot"]
    for number, ((text, reply), segment) in enumerate(zip(exchanges, segments[1:], strict=True)):
        listens = [i for i, e in enumerate(segment) if e["event"] == "action" and e["name"] == LISTEN]
        if not listens:
            problems.append(f"turn {number} ({text!r}) is not whole: no action_listen after it")
            break
        own, rest = segment[: listens[0] + 1], segment[listens[0] + 1:]
        stored = head + [e.get("text") for e in own if e["event"] == "bot"]
        if not stored:
            problems.append(f"turn {number} ({text!r}) has no answer stored")
        if stored != reply:
            problems.append(f"turn {number} ({text!r}): the reply got {reply} != stored {stored}")
        later_listens = [e for e in rest if e["event"] == "action" and e["name"] == LISTEN]
        if number == len(exchanges) - 1 and rest:
            problems.append(f"turn {number} ({text!r}) is followed by {[e['event'] for e in rest]}")
        elif (rest and not any(e["event"] == "session_started" for e in rest)) or len(later_listens) > 1:
            problems.append(f"turn {number} ({text!r}) is not whole: {[e['event'] for e in rest]} after it")
        head = [e.get("text") for e in rest if e["event"] == "bot"]
    return problems


def check_order(rasa_urls: List[str], token: str, sent: Dict[str, List[Exchange]]) -> List[str]:
    """Every conversation read back through every Rasa server: conversation_problems() of each."""
    problems = []
    with httpx.Client(timeout=60) as client:
        for sender, exchanges in sent.items():
            for rasa_url in rasa_urls:
                # ALL: also the events before a restart (a finished triage may restart the conversation).
                params = {"token": token, "include_events": "ALL"}
                events = client.get(f"{rasa_url}/conversations/{sender}/tracker", params=params).json()[
                    "events"]
                found = conversation_problems(events, exchanges)
                problems.extend(f"{sender} via {rasa_url}: {problem}" for problem in found)
    return problems


# What Rasa logs when it did not store a turn where it should: FailSafeTrackerStore falling back to memory
# or to a fresh tracker, the hardened processor answering a failed message without storing it.
STORE_FAILURES = ("Error happened when trying to", "Could not handle a message")


def store_failures(log_dir: Path, instances: int) -> Dict[str, int]:
    """How many times each Rasa server logged one of STORE_FAILURES."""
    counts = {}
    for n in range(1, instances + 1):
        log = log_dir / f"rasa-{n}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        counts[f"rasa-{n}"] = sum(any(p in line for p in STORE_FAILURES) for line in text.splitlines())
    return counts


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


def listener_pids(port: int) -> List[int]:
    """The processes listening on TCP `port` (/proc/net/tcp*, then whose descriptors hold that socket)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def check_listeners(processes: Processes, rasa_urls: List[str]) -> None:
    """Each Rasa URL is served by this round's own rasa-N (not a server left over, or anybody else's)."""
    for number, url in enumerate(rasa_urls, start=1):
        port = int(url.rsplit(":", 1)[1])
        ours = processes.pids.get(f"rasa-{number}")
        found = listener_pids(port)
        if found != [ours]:
            raise SystemExit(
                f"port {port} is served by {found or 'nobody'}, not this round's rasa-{number} ({ours})"
            )


PY_SPY = ROOT / ".venv-tools" / "bin" / "py-spy"  # `make tools`


def start_profilers(processes: Processes, directory: Optional[str], instances: int) -> List[subprocess.Popen]:
    """With --profile DIR: py-spy records each Rasa server and the action server during the round.

    DIR/<instances>-<program>.txt: py-spy's collapsed stacks ("frame;frame;... samples"), for
    flamegraph.pl or speedscope; ended with SIGINT (py-spy then writes the file).
    """
    if not directory:
        return []
    if not PY_SPY.exists():
        raise SystemExit(f"--profile needs py-spy: make tools ({PY_SPY} is missing)")
    Path(directory).mkdir(parents=True, exist_ok=True)
    profilers = []
    for name, pid in processes.pids.items():
        if name.startswith("rasa-") or name == "actions":
            output = Path(directory) / f"{instances}-{name}.txt"
            profilers.append(subprocess.Popen(
                [str(PY_SPY), "record", "--pid", str(pid), "--format", "raw", "--rate", "50", "--nonblocking",
                 "--output", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return profilers


def stop_profilers(profilers: List[subprocess.Popen]) -> None:
    """End each py-spy (it writes its file on SIGINT)."""
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
    for profiler in profilers:
        profiler.wait(timeout=60)


def one_round(instances: int, args: argparse.Namespace) -> Dict:
    """Start run-scaled.sh with `instances` Rasa servers, measure, check, stop."""
    # Fresh ports in each round (the Rasa servers' consecutive, free when probed): a server left over from
    # the round before, or anybody else's, can't answer in this round's place.
    free = service_ports(4 + instances)
    names = ("PROXY_PORT", "PROXY_TLS_PORT", "ACTION_SERVER_PORT", "WEB_PORT", "RASA_PORT")
    ports = dict(zip(names, free[:5], strict=True))
    rasa_urls = [f"http://127.0.0.1:{port}" for port in free[4:]]
    env = {name: str(port) for name, port in ports.items()}
    # 20 simulated patients share one address: the per-address limit would (rightly) stop them.
    env.update(RASA_INSTANCES=str(instances), DATABASE_URL="", TRACKER_STORE_URL="", LOCK_STORE_URL="",
               RATE_LIMIT_PER_IP="0")
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-scaled-{instances}-", dir="/tmp"))
    run = SupervisedRun("run-scaled.sh", workdir, env).start()
    proxy = f"http://127.0.0.1:{ports['PROXY_PORT']}"
    try:
        print(f"[{instances} Rasa] starting run-scaled.sh (logs in {workdir}/log) ...", flush=True)
        run.wait_for(f"{proxy}/health", 300, "web app through the proxy")
        for rasa in rasa_urls:
            run.wait_for(f"{rasa}/status?token={run.api_token}", 600, "Rasa")
        url = f"{proxy}/webhooks/rest/webhook"
        print(f"[{instances} Rasa] warming up ...", flush=True)
        asyncio.run(drive(url, instances * 8, args.concurrency, "warm"))
        processes = Processes(run)
        check_listeners(processes, rasa_urls)
        access_log = workdir / "log" / "nginx-access.log"
        offset = access_log.stat().st_size
        before, machine_before, client_before = processes.sample(), machine_cpu(), time.process_time()
        print(f"[{instances} Rasa] {args.conversations} conversations, {args.concurrency} at a time ...",
              flush=True)
        profilers = start_profilers(processes, args.profile, instances)
        figures = asyncio.run(drive(url, args.conversations, args.concurrency, f"scaled{instances}"))
        after, machine_after = processes.sample(), machine_cpu()
        stop_profilers(profilers)
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
        figures["order_problems"] = check_order(rasa_urls, run.api_token, figures.pop("sent"))
        figures["store_failures_logged"] = store_failures(workdir / "log", instances)
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
    parser.add_argument("--out", default=str(ROOT / "results" / "bench-scaled.json"))
    parser.add_argument("--profile", metavar="DIR", default=os.environ.get("BENCH_PROFILE"),
                        help="py-spy each Rasa server and the action server during each round (make tools)")
    args = parser.parse_args(argv)

    rounds = {n: one_round(n, args) for n in (1, 2)}
    one, two = rounds[1], rounds[2]
    ratios = {
        "throughput": round(two["throughput_msgs_per_s"] / one["throughput_msgs_per_s"], 2),
        "p95": round(two["p95_ms"] / one["p95_ms"], 2),
        "p50": round(two["p50_ms"] / one["p50_ms"], 2),
    }
    intact = all(not r["order_problems"] and r["errors"] == 0 and not any(r["store_failures_logged"].values())
                 for r in rounds.values())
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
        if any(r["store_failures_logged"].values()):
            print(f"  {n} Rasa: tracker store failures logged: {r['store_failures_logged']}")
        if r["order_problems"]:
            print(f"  {n} Rasa: {len(r['order_problems'])} problems reading the conversations back, e.g.:")
        for problem in r["order_problems"][:5]:
            print(f"  {n} Rasa: {problem}")
    print(f"ratios 2/1: throughput {ratios['throughput']} (target >= {TARGETS['throughput_ratio_min']}), "
          f"p95 {ratios['p95']} (target <= {TARGETS['p95_ratio_max']}), p50 {ratios['p50']}; "
          f"nothing lost or reordered: {'yes' if intact else 'NO'}")
    print(f"written to {args.out}")
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
