"""`retention`, `subject` and `migrate` commands (see chalicelib/cli.py and docs/PRIVACY.md).

Their output names tracking ids, field names and counts, never a person's data, except
`subject export`, whose whole point is to hand a person what we hold on them.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

RETENTION_ARGUMENTS: list[tuple[list[str], dict[str, Any]]] = [
    (["--dry-run"], {"action": "store_true", "help": "list what would be erased; change nothing"}),
    (["--now"], {"help": "run as of this ISO instant (default: now)"}),
]

SUBJECT_ARGUMENTS: list[tuple[list[str], dict[str, Any]]] = [
    (["operation"], {"choices": ["export", "erase"]}),
    (["--phone"], {"help": "the reporter's phone, as they write it (08.., +62..)"}),
    (["--email"], {"help": "the reporter's email"}),
    (["--include-nik"], {"action": "store_true", "help": "export: decrypt and include the NIK"}),
    (["--request"], {"help": "erase: the request's reference (recorded in each erase event), e.g. DSR-2026-014"}),
    (["--include-open"], {"action": "store_true",
                          "help": "erase: also reports still being handled (the person withdraws their contact)"}),
    (["--dry-run"], {"action": "store_true", "help": "erase: list what would be erased; change nothing"}),
]

MIGRATE_ARGUMENTS: list[tuple[list[str], dict[str, Any]]] = [
    (["step"], {"choices": ["contact-index"]}),
    (["--rehash"], {"action": "store_true", "help": "re-compute every hash (after rotating the key)"}),
    (["--dry-run"], {"action": "store_true"}),
]


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=1, default=str))


def retention(args: argparse.Namespace) -> int:
    from chalicelib.domain import clock
    from chalicelib.services import erasure

    now = clock.parse(args.now) if args.now else None
    _print(erasure.run_retention(now=now, dry_run=args.dry_run))
    return 0


def subject(args: argparse.Namespace) -> int:
    from chalicelib.services import erasure

    if bool(args.phone) == bool(args.email):
        print("give exactly one of --phone or --email", file=sys.stderr)
        return 2
    try:
        if args.operation == "export":
            if args.request or args.include_open or args.dry_run:
                print("--request, --include-open and --dry-run go with erase", file=sys.stderr)
                return 2
            _print(erasure.subject_export(phone=args.phone, email=args.email, include_nik=args.include_nik))
            return 0
        if args.include_nik:
            print("--include-nik goes with export", file=sys.stderr)
            return 2
        if not args.request and not args.dry_run:
            print("erase needs --request REF (recorded with each erasure) or --dry-run", file=sys.stderr)
            return 2
        _print(erasure.subject_erase(phone=args.phone, email=args.email, request_id=args.request or "dry-run",
                                     include_open=args.include_open, dry_run=args.dry_run))
        return 0
    except erasure.UnknownContact as exc:
        print(str(exc), file=sys.stderr)
        return 2


def migrate(args: argparse.Namespace) -> int:
    from chalicelib.services import erasure

    _print({"step": args.step, "dry_run": args.dry_run,
            **erasure.migrate_contact_index(dry_run=args.dry_run, rehash=args.rehash)})
    return 0
