"""Run imagechat's CLI with the garbage collector's pauses recorded (diagnostics only).

    python benchmarks/gcboot.py OUT.json serve --host ... --port ...

Everything after OUT.json goes to `python -m imagechat`. Each collection's generation and
duration is kept; on exit OUT.json gets, per generation, the count, the total and the longest
pause, plus every pause of 5 ms or more with its time (time.time()). GCBOOT_THRESHOLD="a,b,c"
sets gc.set_threshold(a, b, c) first, to see what other thresholds would change.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import runpy
import signal
import sys
import time
from typing import Any

out = sys.argv[1]
started: list[float] = [0.0]
stats: dict[int, dict[str, float]] = {}
long_pauses: list[tuple[float, int, float]] = []


def on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        started[0] = time.perf_counter()
        return
    took = time.perf_counter() - started[0]
    gen = int(info.get("generation", -1))
    s = stats.setdefault(gen, {"count": 0, "seconds": 0.0, "longest": 0.0})
    s["count"] += 1
    s["seconds"] += took
    s["longest"] = max(s["longest"], took)
    if took >= 0.005 and len(long_pauses) < 10_000:
        long_pauses.append((time.time(), gen, took))


def save() -> None:
    with open(out, "w") as f:
        json.dump({"generations": stats, "long_pauses": long_pauses}, f)


if os.environ.get("GCBOOT_THRESHOLD"):
    gc.set_threshold(*(int(x) for x in os.environ["GCBOOT_THRESHOLD"].split(",")))
gc.callbacks.append(on_gc)
atexit.register(save)
signal.signal(signal.SIGUSR2, lambda *_: save())
sys.argv = ["imagechat", *sys.argv[2:]]
runpy.run_module("imagechat", run_name="__main__", alter_sys=True)
