"""`python -m chalicelib.cli performance`: the monthly per-OPD record as JSON or CSV, a drill-down,
and the ranking chart (PNG) for the Bupati's meeting.

Command-line only: matplotlib is a development/CLI dependency (requirements-dev.txt) and is
imported inside `chart`, so no Lambda code path ever loads it.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ARGUMENTS: list[tuple[list[str], dict[str, Any]]] = [
    (["--period"], {"required": True, "help": "YYYY-MM (WIB)"}),
    (["--format"], {"choices": ["json", "csv"],
                    "help": "json (the default) or csv; with --chart the record is printed only when asked for"}),
    (["--chart"], {"metavar": "OUT.png", "help": "draw the month's ranking (on-time %% per OPD) as a PNG"}),
    (["--opd"], {"help": "with --figure: list the reports behind one figure of this OPD"}),
    (["--figure"], {"help": "received, responded, responded_on_time, late, pending, withdrawn, "
                            "overdue_open, returned, breaches or rated"}),
    (["--now"], {"help": "evaluate overdue/pending as of this ISO 8601 instant (default: now)"}),
    (["--refold"], {"action": "store_true",
                    "help": "fold the month's reports again under today's calendar (after a holiday override "
                            "changed a past month's working days)"}),
    (["--digest"], {"action": "store_true",
                    "help": "record the month's digest for pimpinan now, if not recorded yet (a missed run)"}),
]


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    from chalicelib.domain import clock

    return clock.parse(value)


def run(args: argparse.Namespace) -> int:
    from chalicelib.domain.performance import FIGURES, check_period
    from chalicelib.services import performance

    try:
        period = check_period(args.period)
        now = _now(args.now)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.refold:
        from chalicelib.domain.errors import Conflict

        try:
            print(json.dumps(performance.refold(period)))
        except Conflict as exc:  # a final month is never folded again
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        return 0
    if args.digest:
        result = performance.monthly_digest(now, period=period)
        print(json.dumps({"period": result.period, "recorded": result.recorded, "reason": result.reason}))
        return 0
    if args.opd or args.figure:
        if not (args.opd and args.figure in FIGURES):
            print("error: --opd and --figure go together; figure is one of " + ", ".join(FIGURES), file=sys.stderr)
            return 2
        try:
            body = performance.drilldown(period, args.opd, args.figure, now)
        except performance.UnknownOpd:
            print(f"error: no OPD {args.opd!r}", file=sys.stderr)
            return 2
        print(json.dumps(body, ensure_ascii=False, indent=1))
        return 0
    board = performance.board_json(period, now)
    if args.chart:
        path = chart(board, Path(args.chart))
        print(f"chart written to {path}", file=sys.stderr)
        if args.format is None:
            return 0  # the chart is the output asked for; the record stays one command away
    if args.format == "csv":
        # The BOM is for spreadsheets opening a file; on a terminal it is noise.
        sys.stdout.write(performance.to_csv(board).lstrip("\ufeff"))
    else:
        print(json.dumps(board, ensure_ascii=False, indent=1))
    return 0


def ranking(board: dict[str, Any]) -> list[tuple[str, float]]:
    """(label, on-time %) per OPD with something decided, best first; ties by code."""
    rows = [(i["opd_code"], float(i["on_time_pct"])) for i in board["items"] if i["on_time_pct"] is not None]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def chart(board: dict[str, Any], path: Path) -> Path:
    """Horizontal bars of on-time % per OPD, best at the top, with received counts as labels."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the CLI runs on servers and in CI
    import matplotlib.pyplot as plt

    ranked = ranking(board)
    received = {i["opd_code"]: i["received"] for i in board["items"]}
    height = max(2.5, 0.45 * len(ranked) + 1.5)
    fig, ax = plt.subplots(figsize=(8, height), dpi=120)
    try:
        labels = [code for code, _ in ranked][::-1]  # barh draws bottom-up: best ends on top
        values = [pct for _, pct in ranked][::-1]
        colors = ["#2e7d32" if v >= 80 else "#f9a825" if v >= 50 else "#c62828" for v in values]
        bars = ax.barh(labels, values, color=colors)
        for bar, code, value in zip(bars, labels, values, strict=True):
            ax.text(min(value + 1, 101), bar.get_y() + bar.get_height() / 2,
                    f"{value:.1f}% (n={received.get(code, 0)})", va="center", fontsize=8)
        ax.set_xlim(0, 115)
        ax.set_xlabel("Respons pertama tepat waktu (%)")
        ax.set_title(f"Kinerja OPD {board['period']}: respons tepat waktu")
        if not ranked:
            # No bars: matplotlib would invent a -0.05..0.05 category axis around nothing.
            ax.set_yticks([])
            ax.set_ylim(0, 1)
            ax.text(0.5, 0.5, "Belum ada yang dapat dinilai", transform=ax.transAxes, ha="center")
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
