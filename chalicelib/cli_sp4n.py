"""SP4N-LAPOR! commands of `python -m chalicelib.cli`:

- `sp4n-pull`: one pull now (the schedule's own code);
- `sp4n-reconcile`: the daily reconciliation now;
- `sp4n-problems [--retry ID] [--json]`: failed and diverged syncs; `--retry` repairs one;
- `sp4n-sim ...`: play LAPOR!'s side on the local stand-in (its reporter replies and rates, its
  admin changes a status, a complaint is filed there): `new-complaint --title T --text X`,
  `reply ID --text X`, `rate ID --rating N [--resolved]`, `set-status ID STATUS`, `show ID`.
  It talks to the stand-in's control endpoints (SP4N_BASE_URL of the running stack), never to a
  real LAPOR!.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

SIM_ACTIONS = ("new-complaint", "reply", "rate", "set-status", "show")
SIM_ARGUMENTS: list[tuple[list[str], dict[str, Any]]] = [
    (["sim_action"], {"choices": SIM_ACTIONS, "metavar": "|".join(SIM_ACTIONS)}),
    (["target"], {"nargs": "*", "help": "the complaint id (and, for set-status, the LAPOR! status)"}),
    (["--title"], {"help": "new-complaint: its title"}),
    (["--text"], {"help": "new-complaint: its text; reply: the reporter's follow-up"}),
    (["--rating"], {"type": int, "help": "rate: 1-5"}),
    (["--resolved"], {"action": "store_true", "help": "rate: the reporter confirms it is finished (selesai)"}),
    (["--comment"], {"help": "rate: the reporter's comment"}),
    (["--anonymous"], {"action": "store_true", "help": "new-complaint: is_anonymous"}),
    (["--secret"], {"action": "store_true", "help": "new-complaint: is_secret"}),
    (["--location-id"], {"type": int, "default": 3217, "help": "new-complaint: Kemendagri code (default 3217)"}),
]
PROBLEM_ARGUMENTS: list[tuple[list[str], dict[str, Any]]] = [
    (["--retry"], {"metavar": "TRACKING_ID", "help": "repair this report's sync now"}),
    (["--json"], {"action": "store_true"}),
]


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=1, default=str))


def pull(args: argparse.Namespace) -> int:
    from chalicelib.services import sync

    _print(sync.pull())
    return 0


def reconcile(args: argparse.Namespace) -> int:
    from chalicelib.services import sync_reconcile

    _print(sync_reconcile.run())
    return 0


def problems(args: argparse.Namespace) -> int:
    from chalicelib.domain import tracking
    from chalicelib.services import sync_reconcile

    if args.retry:
        try:
            outcome = sync_reconcile.reconcile_one(tracking.normalise_tracking_id(args.retry), force=True)
        except LookupError:
            print(f"No report {args.retry}.", file=sys.stderr)
            return 1
        _print(outcome)
        return 0 if outcome["error"] is None and outcome["problem"] is None else 3
    items = sync_reconcile.problems()
    if args.json:
        _print(items)
    elif not items:
        print("No failed or diverged SP4N-LAPOR! syncs.")
    else:
        for i in items:
            s = i["sp4n"]
            why = s["problem"] or s["last_error"] or ""
            print(f"{i['tracking_id']}  {i['kind']:<8}  ours {i['status']:<17} LAPOR! {s['complaint_id'] or '-'} "
                  f"{s['lapor_status'] or '-'}  attempts {s['attempts']}  {why}")
    return 0


# -- the simulator ----------------------------------------------------------------------------

def _standin_url() -> str:
    port = os.environ.get("LAPOR_SP4N_PORT") or os.environ.get("SP4N_STANDIN_PORT") or "8100"
    return (os.environ.get("SP4N_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/")


def _call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    import urllib3

    resp = urllib3.request(method, _standin_url() + path, json=body, timeout=10, retries=False)
    if resp.status >= 400:
        raise SystemExit(f"stand-in answered HTTP {resp.status}: {resp.data[:300].decode(errors='replace')}")
    return resp.json()


def _complaint_id(args: argparse.Namespace, want: int = 1) -> list[str]:
    if len(args.target) != want:
        raise SystemExit(f"{args.sim_action} takes {want} argument(s) after it")
    return [str(t) for t in args.target]


def simulate(args: argparse.Namespace) -> int:
    action = args.sim_action
    if action == "new-complaint":
        if not args.title or not args.text:
            raise SystemExit("new-complaint needs --title and --text")
        created = _call("POST", "/_standin/complaints", {
            "title": args.title, "content": args.text, "location_id": args.location_id,
            "is_anonymous": args.anonymous, "is_secret": args.secret})
        print(f"{int(created['complaint_id']):07d}")
        return 0
    if action == "reply":
        (cid,) = _complaint_id(args)
        if not args.text:
            raise SystemExit("reply needs --text")
        _print(_call("POST", f"/_standin/complaints/{cid}/followups", {"content": args.text, "author": "reporter"}))
        return 0
    if action == "rate":
        (cid,) = _complaint_id(args)
        if args.rating is None:
            raise SystemExit("rate needs --rating 1-5")
        body: dict[str, Any] = {"rating": args.rating, "resolved": args.resolved}
        if args.comment:
            body["comment"] = args.comment
        _print(_call("POST", f"/_standin/complaints/{cid}/rating", body))
        return 0
    if action == "set-status":
        cid, status = _complaint_id(args, 2)
        _print(_call("POST", f"/_standin/complaints/{cid}/status", {"status_code": status}))
        return 0
    (cid,) = _complaint_id(args)
    _print(_call("GET", f"/_standin/complaints/{cid}"))
    return 0
