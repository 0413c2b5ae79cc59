"""API fuzzing with schemathesis against the local stack's own /openapi.json.

`make fuzz`  -> `python -m tests.fuzz --examples 100`: starts a local stack on free ports, seeds it,
               fuzzes every operation, prints a summary; exit status 1 on any failure.
`make test`  -> tests/e2e/test_fuzz.py: the same runs, 15 examples per operation, fixed seed.

What runs (schemathesis CLI, phases examples + coverage + fuzzing + stateful, positive and negative
data):
- every operation without credentials (citizen routes with and without a real access token;
  staff routes must answer 401);
- the staff routes once per role, with a token from `python -m chalicelib.cli token` (admin,
  opd of DPUPR, pimpinan): a role the route does not admit must answer 403.
Checks: no 5xx (not_a_server_error), bodies match the documented schema
(response_schema_conformance), only documented status codes, content types and headers.

Random ids rarely exist, so a fuzzer alone would see mostly 404s. The runs get dictionaries of
real values (a submitted report and its token, one forwarded to DPUPR, an upload slot, OPD and
kecamatan codes) that schemathesis mixes into the generated parameters at a fixed probability, so
the 200 paths are checked against their schemas too.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CHECKS = ("not_a_server_error,response_schema_conformance,status_code_conformance,"
          "content_type_conformance,response_headers_conformance")
ROLES = {"admin": None, "opd": "DPUPR", "pimpinan": None}


@dataclass
class RunResult:
    name: str
    returncode: int
    generated: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class FuzzResult:
    runs: list[RunResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.ok for r in self.runs)

    def summary(self) -> str:
        lines = [f"{r.name:10s} {'ok  ' if r.ok else 'FAIL'} {r.generated:6d} cases {r.seconds:6.1f} s" for r in self.runs]
        return "\n".join(lines)


def _call(base: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def staff_token(state_dir: Path, role: str, opd: str | None) -> str:
    """The same command an officer runs locally (CONTRACT.md: `python -m chalicelib.cli token`)."""
    args = [PY, "-m", "chalicelib.cli", "token", "--role", role] + (["--opd", opd] if opd else [])
    out = subprocess.run(args, cwd=ROOT, env={**os.environ, "LAPOR_STATE_DIR": str(state_dir)},
                         capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.strip().splitlines()[-1]


def open311_key(state_dir: Path) -> str:
    """A partner's Open311 api_key, made as Diskominfotik makes it (`cli open311-key`)."""
    out = subprocess.run([PY, "-m", "chalicelib.cli", "open311-key", "--name", "Fuzzer"], cwd=ROOT,
                         env={**os.environ, "LAPOR_STATE_DIR": str(state_dir)},
                         capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.strip().splitlines()[-1]


def seed(api_url: str, tokens: dict[str, str], api_key: str = "") -> dict[str, list[Any]]:
    """Real values for the dictionaries: two reports (one forwarded to DPUPR), an upload slot,
    their Open311 file names, a partner api_key."""
    example = json.loads((ROOT / "docs" / "example-report.json").read_text())
    first = _call(api_url, "POST", "/reports", example)
    second = _call(api_url, "POST", "/reports", {**example, "title": "Saluran air tersumbat di Ngamprah",
                                                 "location": {"kecamatan": "Ngamprah"}})
    _call(api_url, "POST", f"/staff/reports/{second['tracking_id']}/actions", {"action": "verify", "opd_code": "DPUPR"},
          {"Authorization": f"Bearer {tokens['admin']}"})
    upload = _call(api_url, "POST", "/attachments", {"content_type": "application/pdf", "size": 2048})
    return {
        "tracking_ids": [first["tracking_id"], second["tracking_id"]],
        "access_tokens": [first["access_token"], second["access_token"]],
        "attachment_ids": [upload["attachment_id"]],
        "opd_codes": ["DPUPR", "DINSOS"],
        "kecamatan": ["Lembang", "ngamprah"],
        "periods": [time.strftime("%Y-%m")],
        "request_files": [f"{first['tracking_id']}.json", f"{second['tracking_id']}.xml"],
        "service_files": ["jalan_rusak.json", "sampah.xml"],
        "service_codes": ["jalan_rusak", "sampah"],
        "api_keys": [api_key] if api_key else ["o311_none"],
    }


def config_toml(values: dict[str, list[Any]]) -> str:
    """schemathesis.toml: dictionaries of real values, bound to parameters at a fixed probability."""
    bindings = {
        "path.tracking_id": ("tracking_ids", 0.5),
        "header.X-Access-Token": ("access_tokens", 0.5),
        "path.attachment_id": ("attachment_ids", 0.5),
        "path.opd_code": ("opd_codes", 0.5),
        "query.opd_code": ("opd_codes", 0.3),
        "query.kecamatan": ("kecamatan", 0.3),
        "query.period": ("periods", 0.5),
        "body.location.kecamatan": ("kecamatan", 0.5),
        "body.opd_code": ("opd_codes", 0.3),
        "path.request_file": ("request_files", 0.5),
        "path.service_file": ("service_files", 0.5),
        "query.service_code": ("service_codes", 0.3),
        "body.service_code": ("service_codes", 0.5),
        "body.api_key": ("api_keys", 0.5),
    }
    lines = []
    for name, entries in values.items():
        lines.append(f"[dictionaries.{name}]\nvalues = {json.dumps(entries)}\n")
    lines.append("[parameters]")
    for key, (name, probability) in bindings.items():
        lines.append(f'"{key}" = {{ dictionary = "{name}", probability = {probability} }}')
    return "\n".join(lines) + "\n"


_GENERATED = re.compile(r"(\d+) generated")


def run_cli(name: str, api_url: str, config: Path, examples: int, seed_value: int, report_dir: Path,
            extra: list[str], workers: int, phases: str) -> RunResult:
    args = [PY, "-m", "schemathesis.cli", "--config-file", str(config), "run", f"{api_url}/openapi.json",
            "--checks", CHECKS, "--max-examples", str(examples), "--seed", str(seed_value), "--phases", phases,
            "--workers", str(workers), "--generation-database", "none", "--no-color",
            "--report", "junit", "--report-dir", str(report_dir / name), *extra]
    started = time.monotonic()
    proc = subprocess.run(args, cwd=config.parent, capture_output=True, text=True, timeout=3600)
    output = proc.stdout + proc.stderr
    (report_dir / f"{name}.txt").write_text(output)
    found = _GENERATED.findall(output)
    return RunResult(name, proc.returncode, int(found[-1]) if found else 0, output, time.monotonic() - started)


ALL_PHASES = "examples,coverage,fuzzing,stateful"


def fuzz(api_url: str, state_dir: Path, *, examples: int, seed_value: int, report_dir: Path,
         workers: int = 1, phases: str = ALL_PHASES) -> FuzzResult:
    report_dir = report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    tokens = {role: staff_token(state_dir, role, opd) for role, opd in ROLES.items()}
    config = report_dir / "schemathesis.toml"
    config.write_text(config_toml(seed(api_url, tokens, open311_key(state_dir))))
    result = FuzzResult()
    result.runs.append(run_cli("anonymous", api_url, config, examples, seed_value, report_dir, [], workers, phases))
    for role in ROLES:
        header = ["--header", f"Authorization: Bearer {tokens[role]}", "--include-path-regex", "^/staff/"]
        result.runs.append(run_cli(role, api_url, config, examples, seed_value, report_dir, header, workers, phases))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="cases per operation (default 100)")
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run (default: random, printed)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report-dir", type=Path, default=ROOT / "test-artifacts" / "fuzz")
    args = parser.parse_args(argv)
    seed_value = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)

    sys.path.insert(0, str(ROOT))
    from chalicelib.local.stack import LocalStack, Ports

    # Limits on but out of reach: the fuzzer is one client; 429s would hide the handlers.
    for scope in ("REPORTS", "ATTACHMENTS", "LOOKUPS", "STATS"):
        os.environ[f"RATE_LIMIT_{scope}"] = "1000000/600"
    stack = LocalStack(ports=Ports.free(), state_dir=args.report_dir / "state", log_dir=args.report_dir / "stack-logs",
                       sla_interval=3600, with_web=False)
    try:
        stack.start()
        print(f"fuzzing {stack.api_url} with seed {seed_value}, {args.examples} examples per operation", flush=True)
        result = fuzz(stack.api_url, stack.state_dir, examples=args.examples, seed_value=seed_value,
                      report_dir=args.report_dir, workers=args.workers)
    finally:
        stack.stop()
    for run in result.runs:
        if not run.ok:
            print(run.output)
    print(result.summary())
    print(f"seed {seed_value}; reports in {args.report_dir}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
