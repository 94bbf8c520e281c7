"""NLU speed: in-process parse latency per message (p50, p95) and NLU training time.

    python -m clinic.nlu.bench [--train] [--rounds 3]

Latency: the trained model (models/clinic.tar.gz) parses every held-out message `rounds` times
after a warm-up, in-process as the Rasa server does; bad input (empty, 20,000 characters, emoji,
another language) is timed apart. Training: with --train, `rasa train nlu` from scratch (Rasa's
training cache off) into build/bench/. Targets on 2 cores: p50 <= 20 ms, training <= 5 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

from clinic.config import child_environment
from clinic.nlu.evaluate import HOLDOUT, MODEL, ROOT, Parser, load_examples

BAD_INPUT: Dict[str, str] = {
    "empty": "",
    "20,000 characters": ("my bump is hard and white " * 800)[:20000],
    "emoji only": "\U0001f62d\U0001f62d\U0001f926\U0001f44d",
    "another language": "Bonjour, j'ai un petit bouton blanc sous l'oeil, est-ce grave ?",
}


def percentile(values: List[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def time_training() -> float:
    """Seconds for `rasa train nlu` with an empty cache (what a fresh clone pays)."""
    out = ROOT / "build" / "bench"
    env = child_environment(RASA_MAX_CACHE_SIZE="0")
    with tempfile.TemporaryDirectory() as home:
        env["HOME"] = home  # no shared ~/.rasa state either
        start = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "rasa"), "train", "nlu", "--config", "config.yml",
             "--nlu", "data", "--domain", "domain", "--out", str(out), "--fixed-model-name", "bench"],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main(argv: Optional[List[str]] = None) -> None:
    """Print (and save to results/bench_nlu.json) the latency and training figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--train", action="store_true", help="also time NLU training from scratch")
    args = parser.parse_args(argv)

    texts = [e.text for e in load_examples(HOLDOUT)]
    nlu = Parser(MODEL)
    try:
        for text in texts[:10]:
            nlu.parse(text)  # warm-up: TensorFlow traces the graph on the first calls
        latency = []
        for _ in range(args.rounds):
            for text in texts:
                start = time.perf_counter()
                nlu.parse(text)
                latency.append((time.perf_counter() - start) * 1000)
        bad = {}
        for kind, text in BAD_INPUT.items():
            start = time.perf_counter()
            nlu.parse(text)
            bad[kind] = round((time.perf_counter() - start) * 1000, 1)
    finally:
        nlu.close()

    figures = {
        "messages": len(texts) * args.rounds,
        "parse_ms_p50": round(statistics.median(latency), 1),
        "parse_ms_p95": round(percentile(latency, 0.95), 1),
        "parse_ms_max": round(max(latency), 1),
        "bad_input_ms": bad,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if args.train:
        figures["nlu_training_s"] = round(time_training(), 1)
    results = ROOT / "results"
    results.mkdir(exist_ok=True)
    (results / "bench_nlu.json").write_text(json.dumps(figures, indent=2))
    print(f"parse latency over {figures['messages']} held-out messages: "
          f"p50 {figures['parse_ms_p50']} ms (target <= 20), p95 {figures['parse_ms_p95']} ms, "
          f"max {figures['parse_ms_max']} ms")
    print("bad input: " + ", ".join(f"{k} {v} ms" for k, v in bad.items()))
    if "nlu_training_s" in figures:
        print(f"NLU training from scratch: {figures['nlu_training_s']} s (target <= 300)")
    print(f"({figures['cpu_count']} cores, load average {figures['load_average_1m']} "
          "while measuring: other work on the machine slows both figures)")


if __name__ == "__main__":
    main()
