"""Command line of the SLA engine: `sla-sweep`, `sla-digest` and `calendar`.

Registered in chalicelib/cli.py; the environment (local stack or AWS) is loaded there before
these handlers import anything that talks to AWS.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import WIB

_JSON: tuple[list[str], dict[str, Any]] = (["--json"], {"action": "store_true", "help": "machine-readable output"})

SWEEP_ARGUMENTS: list[tuple[list[str], dict[str, Any]]] = [
    (["--now"], {"help": "ISO-8601 instant to run as (default: now); without an offset it is WIB, "
                         "e.g. 2026-03-28T00:10. The run is real: the breaches, reminders and closes it "
                         "finds are recorded and their emails and SMS sent (see --dry-run)"}),
    (["--dry-run"], {"action": "store_true",
                     "help": "only say what the run would do: nothing is written or sent"}),
    _JSON,
]

DIGEST_ARGUMENTS: list[tuple[list[str], dict[str, Any]]] = [
    (["--now"], {"help": "ISO-8601 instant to run as (default: now); the digest covers the week before"}),
    _JSON,
]

CALENDAR_ARGUMENTS: list[tuple[list[str], dict[str, Any]]] = [
    (["operation"], {"choices": ["list", "add", "remove", "year", "audit"],
                     "help": "list overrides | add DATE --kind off|on | remove DATE | year YYYY | audit YYYY"}),
    (["value"], {"nargs": "?", "help": "the date (YYYY-MM-DD) for add/remove, the year for year and audit"}),
    (["--kind"], {"choices": ["off", "on"], "default": "off",
                  "help": "off: close the day (a holiday declared late); on: open it (a day given back)"}),
    (["--note"], {"default": "", "help": "why (shown in the public calendar)"}),
    _JSON,
]


def parse_now(value: str | None) -> datetime | None:
    """ISO-8601; a value without an offset is read as WIB (the service's zone)."""
    if value is None:
        return None
    at = datetime.fromisoformat(value)
    return at if at.tzinfo is not None else at.replace(tzinfo=WIB)


def sweep(args: argparse.Namespace) -> int:
    from chalicelib.domain import clock
    from chalicelib.services import sla_sweep

    try:
        now = parse_now(args.now)
    except ValueError:
        print(f"--now {args.now!r} is not an ISO-8601 date and time", file=sys.stderr)
        return 2
    if now is not None and now > clock.now() and not args.dry_run:
        print(f"warning: --now {args.now} is in the future: what falls due by then is recorded for real "
              "and its messages are sent (use --dry-run to only look)", file=sys.stderr)
    result = sla_sweep.sweep(now, dry_run=args.dry_run)
    print(json.dumps(result.as_dict(), ensure_ascii=False, indent=1) if args.json else result.summary())
    return 1 if result.failed else 0


def digest(args: argparse.Namespace) -> int:
    from chalicelib.services import sla_sweep

    try:
        now = parse_now(args.now)
    except ValueError:
        print(f"--now {args.now!r} is not an ISO-8601 date and time", file=sys.stderr)
        return 2
    result = sla_sweep.weekly_digest(now)
    if args.json:
        print(json.dumps({"week": result.week, "recorded": result.recorded, "data": result.data},
                         ensure_ascii=False, indent=1))
    else:
        state = "recorded" if result.recorded else "already recorded earlier: nothing sent again"
        print(f"Weekly digest {result.week}: {result.data['overdue_total']} overdue report(s), {state}.")
        for code, n in sorted(result.data["overdue_by_opd"].items()):
            print(f"  {code}: {n}")
    return 0


def calendar(args: argparse.Namespace) -> int:
    from chalicelib.domain.errors import DomainError, Invalid
    from chalicelib.services import calendar_admin

    try:
        if args.operation == "list":
            items: Any = calendar_admin.list_overrides()
            if args.json:
                print(json.dumps(items, ensure_ascii=False, indent=1))
            elif not items:
                print("No calendar overrides: national holidays and cuti bersama only.")
            else:
                for item in items:
                    print(f"{item['date']}  {item['kind']:<3}  {item['note']}")
            return 0
        if args.operation == "audit":
            if not (args.value and args.value.isdigit()):
                print("calendar audit needs a year, e.g. 2026", file=sys.stderr)
                return 2
            trail = calendar_admin.audit_trail(int(args.value))
            if args.json:
                print(json.dumps(trail, ensure_ascii=False, indent=1))
            for t in [] if args.json else trail:
                old, new = t.get("old") or {}, t.get("new") or {}
                print(f"{t['at']}  {t.get('actor_id') or '-'}  {t['date']}  "
                      f"{old.get('kind', '-')} -> {new.get('kind', '-')}  {new.get('note', '')}")
            return 0
        if args.operation == "year":
            year = int(args.value) if args.value and args.value.isdigit() else None
            if year is None:
                print("calendar year needs a year, e.g. 2026", file=sys.stderr)
                return 2
            view = calendar_admin.year_view(year)
            if args.json:
                print(json.dumps(view, ensure_ascii=False, indent=1))
            else:
                print(f"{year}: {view['working_days']} working days (WIB, Mon-Fri)")
                for day in view["days_off"]:
                    print(f"  off {day['date']}  {day['kind']:<14} {day['name']}")
                for day in view["extra_working_days"]:
                    print(f"  on  {day['date']}  {day['kind']:<14} {day['name']}")
            return 0
        if not args.value:
            print(f"calendar {args.operation} needs a date (YYYY-MM-DD)", file=sys.stderr)
            return 2
        if args.operation == "add":
            item = calendar_admin.put_override(args.value, args.kind, args.note, actor="cli")
            verb = "closed (off)" if item["kind"] == "off" else "opened (on)"
        else:
            item = calendar_admin.remove_override(args.value, actor="cli")
            verb = "override removed"
        print(json.dumps(item, ensure_ascii=False, indent=1) if args.json
              else f"{item['date']} {verb}; open reports re-planned.")
        return 0
    except DomainError as exc:
        detail = "; ".join(str(d.get("message")) for d in exc.details) if exc.details else ""
        print(f"{exc.message} {detail}".strip(), file=sys.stderr)
        return 2 if isinstance(exc, Invalid) else 1
