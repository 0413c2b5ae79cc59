"""`make bench`: every figure in one run, as `name: value` lines (README, "Benchmarks").

Ratios are taken against a bare baseline measured in the same run, on the same machine, so they
travel between machines better than the absolute times printed beside them. Nothing here runs in
`make test`: timings in a test suite are flaky by nature; the suite counts instead (AWS calls,
items read).

    python -m bench                 # everything (~5 minutes on 2 cores)
    python -m bench cold submit     # only some sections: cold first submit reads consumer package e2e open311 dupes
"""
from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLD_RUNS = 15
SWEEP_SIZES = (1_000, 10_000, 50_000)
TARGETS = {  # the targets the README's benchmark table states
    **{f"cold_import_ratio.{fn}": 1.25 for fn in ("api", "dispatch", "notify", "sync", "scan_upload", "sla_sweep",
                                                  "performance", "whatsapp")},
    "first_submit_ratio": 1.3,
    "submit_cpu_ratio": 1.3,
    "consumer_cpu_ratio": 2.0,
    "submit_aws_calls": 3,
    "sweep_items_read_per_due.1000": 1.05,
    "sweep_items_read_per_due.10000": 1.05,
    "sweep_items_read_per_due.50000": 1.05,
    "package_zip_mb": 20,
    "open311_items_read_per_item.10000": 1.1,
    "open311_items_read_per_item.50000": 1.1,
    **{f"dupes_items_read_per_suggestion.{n}": 20 for n in (1_000, 10_000, 50_000)},
    "dupes_items_read_growth_50000_vs_1000": 1.1,
}
OPEN311_SIZES = (10_000, 50_000)
DUPES_SIZES = (1_000, 10_000, 50_000)


def _cold() -> dict[str, float]:
    from bench import cold_import

    out: dict[str, float] = {}
    for fn in cold_import.FUNCTIONS:
        m = cold_import.measure(fn, COLD_RUNS)
        out[f"cold_import_ratio.{fn}"] = m["ratio"]
        out[f"cold_import_ms.{fn}"] = m["app_s"] * 1000
        out[f"cold_import_baseline_ms.{fn}"] = m["baseline_s"] * 1000
    return out


def _first() -> dict[str, float]:
    from bench import first_submit

    return first_submit.run()


def _submit() -> dict[str, float]:
    from bench import submit_cpu

    return submit_cpu.run()


def _reads() -> dict[str, float]:
    out: dict[str, float] = {}
    # Each measurement in a fresh interpreter: a fresh moto, nothing cached from the one before.
    for size in SWEEP_SIZES:
        m = _json_of([sys.executable, "-m", "bench.reads", "sweep", str(size)])
        out[f"sweep_items_read_per_due.{size}"] = m["per_due"]
    m = _json_of([sys.executable, "-m", "bench.reads", "scoreboard"])
    out["scoreboard_items_read_per_report"] = m["per_report"]
    return out


def _open311() -> dict[str, float]:
    out: dict[str, float] = {}
    for size in OPEN311_SIZES:  # a fresh interpreter each: a fresh moto
        m = _json_of([sys.executable, "-m", "bench.open311", str(size)])
        out[f"open311_items_read_per_item.{size}"] = m["per_item"]
        out[f"open311_dated_items_read_per_item.{size}"] = m["dated_per_item"]
    return out


def _dupes() -> dict[str, float]:
    out: dict[str, float] = {}
    for size in DUPES_SIZES:  # a fresh interpreter each: a fresh moto
        m = _json_of([sys.executable, "-m", "bench.dupes", str(size)])
        out[f"dupes_items_read_per_suggestion.{size}"] = m["per_suggestion"]
    # Flat: the suggestion reads one kecamatan's recent open work whatever the history behind it.
    out["dupes_items_read_growth_50000_vs_1000"] = (out["dupes_items_read_per_suggestion.50000"]
                                                    / out["dupes_items_read_per_suggestion.1000"])
    return out


def _json_of(args: list[str]) -> dict[str, float]:
    import subprocess

    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-4000:])
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _consumer() -> dict[str, float]:
    from bench import consumer_cpu

    return consumer_cpu.run()


def _package() -> dict[str, float]:
    from bench import package_size

    return package_size.run()


def _e2e() -> dict[str, float]:
    from bench import e2e

    return e2e.run()


SECTIONS: dict[str, Callable[[], dict[str, float]]] = {
    "cold": _cold, "first": _first, "submit": _submit, "reads": _reads, "consumer": _consumer, "package": _package,
    "e2e": _e2e, "open311": _open311, "dupes": _dupes,
}


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    wanted = argv or list(SECTIONS)
    results: dict[str, float] = {}
    failed = False
    for name in wanted:
        started = time.monotonic()
        try:
            figures = SECTIONS[name]()
        except Exception:  # noqa: BLE001 (report it and go on: the other figures still count)
            failed = True
            print(f"# {name} failed:\n# " + traceback.format_exc().replace("\n", "\n# "), flush=True)
            continue
        for key, value in figures.items():
            results[key] = value
            print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}", flush=True)
        print(f"# {name}: {time.monotonic() - started:.0f} s", flush=True)
    for key, limit in TARGETS.items():
        if key in results:
            print(f"# target {key} <= {limit}: {'met' if results[key] <= limit else 'MISSED'}")
    out = ROOT / "test-artifacts" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, sort_keys=True))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
