"""Command line: python -m chalicelib.cli <command> [options].

By default it talks to the running local stack: the environment `make run` wrote to
`<LAPOR_STATE_DIR or .local>/stack.env.json` is loaded before anything touches AWS. With
`AWS_PROFILE`/credentials and the stack outputs in the environment it talks to AWS instead
(variables already set win over the file).

Commands register themselves with `@command(name, help, arguments)`; `arguments` is a list of
(flags, add_argument kwargs). Each handler gets the parsed args and returns an exit code.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
Handler = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, tuple[str, Sequence[tuple[Sequence[str], dict[str, Any]]], Handler]] = {}


def command(name: str, help: str,
            arguments: Sequence[tuple[Sequence[str], dict[str, Any]]] = ()) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _COMMANDS[name] = (help, arguments, fn)
        return fn

    return register


def load_env() -> dict[str, str]:
    """Load the local stack's environment (if any) and bind the models to it. Call before
    importing anything that reads settings or talks to AWS."""
    path = Path(os.environ.get("LAPOR_STATE_DIR") or ROOT / ".local") / "stack.env.json"
    values: dict[str, str] = {}
    if path.exists():
        values = {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
        for key, value in values.items():
            os.environ.setdefault(key, value)
    from chalicelib import config
    from chalicelib.adapters import aws
    from chalicelib.data import models

    config.reset()
    aws.reset()
    models.bind()
    return values


# -- outbox ---------------------------------------------------------------------------------

@command("outbox", "list the emails and SMS the local stack sent", [
    (["--json"], {"action": "store_true", "help": "machine-readable output"}),
])
def _outbox(args: argparse.Namespace) -> int:
    from chalicelib.local import outbox

    items = outbox.sent()
    print(json.dumps(items, ensure_ascii=False, indent=1) if args.json else outbox.render(items))
    return 0


# -- WhatsApp -------------------------------------------------------------------------------

@command("wa-chat", "play a citizen's WhatsApp chat against the local stack (signed webhook calls)", [
    (["--demo"], {"action": "store_true", "help": "a whole chat that files a report; prints its tracking id"}),
    (["--from"], {"dest": "sender", "default": "6281200000001", "help": "the citizen's number (62...)"}),
    (["--text"], {"default": None, "help": "one message to send"}),
])
def _wa_chat(args: argparse.Namespace) -> int:
    from chalicelib.local import wa_chat as cli_whatsapp

    sender = args.sender.lstrip("+")
    if args.demo:
        print(cli_whatsapp.demo(sender, echo=lambda line: print(line, file=sys.stderr)))
        return 0
    if not args.text:
        print("give --demo or --text", file=sys.stderr)
        return 2
    for reply in cli_whatsapp.send(sender, cli_whatsapp.text(args.text)):
        print(reply)
    return 0


# -- dead-letter queues ---------------------------------------------------------------------

@command("dlq", "list or redrive a dead-letter queue", [
    (["operation"], {"choices": ["list", "redrive"]}),
    (["--queue"], {"default": "sync", "choices": ["notify", "sync", "uploads", "performance", "sms_inbound"],
                   "help": "which consumer's DLQ (default: sync)"}),
    (["--limit"], {"type": int, "default": 1000}),
    (["--json"], {"action": "store_true"}),
])
def _dlq(args: argparse.Namespace) -> int:
    from chalicelib.services import dlq

    try:
        if args.operation == "list":
            items = dlq.list_messages(args.queue, args.limit)
            if args.json:
                print(json.dumps(items, ensure_ascii=False, indent=1))
            elif not items:
                print(f"The {args.queue} dead-letter queue is empty.")
            else:
                for i in items:
                    what = (f"{i.get('tracking_id')} seq {i.get('seq')} {i.get('action')}" if i.get("tracking_id")
                            else f"unreadable: {i.get('body', '')[:120]}")
                    print(f"{i['message_id']}  received {i['receive_count']}x  {what}")
            return 0
        moved = dlq.redrive(args.queue, args.limit)
        print(json.dumps({"queue": args.queue, "redriven": moved}) if args.json
              else f"Moved {moved} message(s) from the {args.queue} dead-letter queue back to its queue.")
        return 0
    except dlq.UnknownQueue as exc:
        print(str(exc), file=sys.stderr)
        return 2


# -- staff token (local stack) ---------------------------------------------------------------

@command("token", "print a staff JWT that the local stack accepts", [
    (["--role"], {"required": True, "choices": ["admin", "opd", "opd_admin", "pimpinan"]}),
    (["--opd"], {"help": "OPD code, required with --role opd or opd_admin (e.g. DPUPR)"}),
    (["--sub"], {"help": "subject (staff user id); default local-<role>[-<opd>]"}),
    (["--name"], {"help": "display name"}),
    (["--ttl"], {"type": int, "default": 8 * 3600, "help": "lifetime in seconds (default 8 h)"}),
])
def _token(args: argparse.Namespace) -> int:
    from chalicelib.local import tokens

    if (args.role in ("opd", "opd_admin")) != bool(args.opd) or args.ttl <= 0:
        print("--opd CODE goes with --role opd or opd_admin (and only with them); --ttl must be positive",
              file=sys.stderr)
        return 2
    state = Path(os.environ.get("LAPOR_STATE_DIR") or ROOT / ".local")
    try:
        private, issuer, audience = tokens.read_state(state)
    except FileNotFoundError as exc:
        print(f"{exc}. In AWS, staff tokens come from the Cognito user pool.", file=sys.stderr)
        return 1
    print(tokens.mint(private, role=args.role, opd_code=args.opd.upper() if args.opd else None,
                      sub=args.sub, ttl=args.ttl, issuer=issuer, audience=audience, name=args.name))
    return 0


# -- officers (who an opd_admin assigns reports to) ---------------------------------------------

@command("officers-sync", "fill the officers table from the Cognito user pool's opd group", [
    (["--user-pool-id"], {"help": "default: COGNITO_USER_POOL_ID"}),
    (["--json"], {"action": "store_true", "help": "print the outcome as JSON"}),
])
def _officers_sync(args: argparse.Namespace) -> int:
    from chalicelib.adapters import aws
    from chalicelib.services import officers

    pool = args.user_pool_id or os.environ.get("COGNITO_USER_POOL_ID", "")
    if not pool:
        print("no user pool: pass --user-pool-id or set COGNITO_USER_POOL_ID (the local stack seeds its "
              "officers itself)", file=sys.stderr)
        return 2
    outcome = officers.sync(aws.client("cognito-idp"), pool)
    if args.json:
        print(json.dumps(outcome, ensure_ascii=False, indent=1))
    else:
        per_opd = ", ".join(f"{code} {n}" for code, n in outcome["by_opd"].items()) or "none"
        print(f"{outcome['officers']} officer(s) listed ({per_opd}); {outcome['removed']} removed.")
        for line in outcome["skipped"]:
            print(f"skipped {line}")
    return 0


# -- SLA engine --------------------------------------------------------------------

def _sla_arguments(name: str) -> list[tuple[list[str], dict[str, Any]]]:
    from chalicelib import cli_sla

    return list(getattr(cli_sla, name))


@command("sla-sweep", "run the SLA check once (reminders, breaches, escalations, auto-close, archive)",
         _sla_arguments("SWEEP_ARGUMENTS"))
def _sla_sweep(args: argparse.Namespace) -> int:
    from chalicelib import cli_sla

    return cli_sla.sweep(args)


@command("sla-digest", "record the weekly breach digest for pimpinan (once per ISO week)",
         _sla_arguments("DIGEST_ARGUMENTS"))
def _sla_digest(args: argparse.Namespace) -> int:
    from chalicelib import cli_sla

    return cli_sla.digest(args)


@command("calendar", "holiday overrides: list | add DATE --kind off|on --note ... | remove DATE | year YYYY",
         _sla_arguments("CALENDAR_ARGUMENTS"))
def _calendar(args: argparse.Namespace) -> int:
    from chalicelib import cli_sla

    return cli_sla.calendar(args)


# -- performance -------------------------------------------------------------------

def _performance_arguments() -> list[tuple[list[str], dict[str, Any]]]:
    from chalicelib import cli_performance

    return cli_performance.ARGUMENTS


@command("performance", "the monthly per-OPD record (JSON or CSV), a figure's reports, a PNG ranking",
         _performance_arguments())
def _performance(args: argparse.Namespace) -> int:
    from chalicelib import cli_performance

    return cli_performance.run(args)


# -- channels -----------------------------------------------------------------------------

def _channel_arguments(name: str) -> list[tuple[list[str], dict[str, Any]]]:
    from chalicelib.local import sms_in

    return list(getattr(sms_in, name))


@command("sms-in", "deliver one inbound SMS to the local stack, signed as the SMS gateway would",
         _channel_arguments("SMS_IN_ARGUMENTS"))
def _sms_in(args: argparse.Namespace) -> int:
    from chalicelib.local import sms_in

    return sms_in.sms_in(args)


# -- personal data (UU PDP) ------------------------------------------------------------------

def _privacy_arguments(name: str) -> list[tuple[list[str], dict[str, Any]]]:
    from chalicelib import cli_privacy

    return list(getattr(cli_privacy, name))


@command("retention", "erase personal data of reports closed longer than the retention policy allows",
         _privacy_arguments("RETENTION_ARGUMENTS"))
def _retention(args: argparse.Namespace) -> int:
    from chalicelib import cli_privacy

    return cli_privacy.retention(args)


@command("subject", "a data subject's request: export | erase all we hold on a --phone or --email",
         _privacy_arguments("SUBJECT_ARGUMENTS"))
def _subject(args: argparse.Namespace) -> int:
    from chalicelib import cli_privacy

    return cli_privacy.subject(args)


@command("migrate", "re-runnable data migrations: contact-index (contact hashes, retention clock)",
         _privacy_arguments("MIGRATE_ARGUMENTS"))
def _migrate(args: argparse.Namespace) -> int:
    from chalicelib import cli_privacy

    return cli_privacy.migrate(args)


# -- SP4N-LAPOR! ------------------------------------------------------------------------------

def _sp4n_arguments(name: str) -> list[tuple[list[str], dict[str, Any]]]:
    from chalicelib import cli_sp4n

    return list(getattr(cli_sp4n, name))


@command("sp4n-pull", "pull from SP4N-LAPOR! once now (as the schedule does)")
def _sp4n_pull(args: argparse.Namespace) -> int:
    from chalicelib import cli_sp4n

    return cli_sp4n.pull(args)


@command("sp4n-reconcile", "compare our open synced reports with SP4N-LAPOR! now (the daily job)")
def _sp4n_reconcile(args: argparse.Namespace) -> int:
    from chalicelib import cli_sp4n

    return cli_sp4n.reconcile(args)


@command("sp4n-problems", "failed and diverged SP4N-LAPOR! syncs; --retry ID repairs one",
         _sp4n_arguments("PROBLEM_ARGUMENTS"))
def _sp4n_problems(args: argparse.Namespace) -> int:
    from chalicelib import cli_sp4n

    return cli_sp4n.problems(args)


@command("sp4n-sim", "play SP4N-LAPOR!'s side on the local stand-in: new-complaint | reply | rate | "
         "set-status | show", _sp4n_arguments("SIM_ARGUMENTS"))
def _sp4n_sim(args: argparse.Namespace) -> int:
    from chalicelib import cli_sp4n

    return cli_sp4n.simulate(args)


class _Stderr:
    """Whatever sys.stderr is when a line is written (tests swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@contextlib.contextmanager
def logs_to_stderr() -> Iterator[None]:
    """A command's stdout is its output (JSON, CSV, a token): while it runs, the service's JSON log
    lines go to stderr, so `... > kinerja.csv` or `| jq` read the output alone."""
    import logging

    from chalicelib.observability import logger

    # Assigned, not setStream(): that flushes the old stream, which a test may already have closed.
    moved = [(h, h.stream) for h in logger.handlers if type(h) is logging.StreamHandler]
    for handler, _ in moved:
        handler.stream = _Stderr()
    try:
        yield
    finally:
        for handler, stream in moved:
            handler.stream = stream


# -- Open311 partner keys -------------------------------------------------------------------

@command("open311-key", "issue (or revoke) an Open311 api_key for a partner app", [
    (["--name"], {"required": True, "help": "the partner, e.g. 'FixMyStreet Jabar'"}),
    (["--revoke"], {"action": "store_true", "help": "delete every key of this partner instead"}),
])
def _open311_key(args: argparse.Namespace) -> int:
    from chalicelib.services import open311

    if args.revoke:
        print(f"{open311.revoke_keys(args.name)} key(s) of {args.name!r} revoked", file=sys.stderr)
        return 0
    key = open311.issue_key(args.name)
    print(f"api_key for {args.name!r} (shown once; only its SHA-256 is stored):", file=sys.stderr)
    print(key)
    return 0


@command("open311-backfill", "index reports stored before the Open311 feed existed (by_updated_month)", [
    (["--since"], {"default": "2025-01", "help": "first month (YYYY-MM) of reports to look at (default 2025-01)"}),
])
def _open311_backfill(args: argparse.Namespace) -> int:
    from chalicelib.data import reports
    from chalicelib.domain import clock

    month, total = clock.month_wib(clock.now()), 0
    while month >= args.since:
        total += reports.backfill_updated_month(month)
        year, mon = int(month[:4]), int(month[5:])
        month = f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"
    print(f"{total} report(s) added to the Open311 feed index")
    return 0


@command("dupes-backfill", "index open reports stored before duplicate suggestions existed (by_dupe_place)", [])
def _dupes_backfill(args: argparse.Namespace) -> int:
    from chalicelib.data import reports

    print(f"{reports.backfill_dupe_place()} open report(s) added to the duplicate-suggestion index")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description="Lapor KBB command line")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, arguments, _) in sorted(_COMMANDS.items()):
        p = sub.add_parser(name, help=help_text)
        for flags, kwargs in arguments:
            p.add_argument(*flags, **kwargs)
    args = parser.parse_args(argv)
    with logs_to_stderr():
        load_env()
        return _COMMANDS[args.command][2](args)


if __name__ == "__main__":
    raise SystemExit(main())
