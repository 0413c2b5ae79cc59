"""The field's scanners over the packaged template and the code, run by `make lint`.

    python infra/scanners.py [--template build/sam.json]

- checkov (in its own virtualenv, .venv-tools: its pins clash with the project's) on the template;
- cfn-lint with the serverless rules (cfn-lint-serverless, `--append-rules`) on the template;
- bandit on chalicelib/ and app.py (medium and high severity; chalicelib/local, the local stack,
  is never deployed).
Each must report nothing. The findings accepted on purpose are in infra/scanners.yaml, with their
reasons; `annotate` (called by infra/package.py) writes them into the template's metadata, so the
reason is next to the resource a reviewer reads. An entry that skips nothing any more fails too.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "infra" / "scanners.yaml"
CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"
BANDIT_TARGETS = ["chalicelib", "app.py"]
BANDIT_EXCLUDED = ["chalicelib/local"]
Json = dict[str, Any]


def load_table() -> Json:
    return yaml.safe_load(TABLE.read_text()) or {}


def _dead_letter_queues(resources: dict[str, Json]) -> set[str]:
    found = set()
    for name, res in resources.items():
        if res.get("Type") != "AWS::SQS::Queue":
            continue
        target = (res.get("Properties", {}).get("RedrivePolicy") or {}).get("deadLetterTargetArn")
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            found.add(target["Fn::GetAtt"][0])
        if name.endswith("Failures"):
            found.add(name)
    return found


def selected(entry: Json, types: dict[str, str], dlqs: set[str]) -> list[str]:
    names = set(entry.get("resources") or [])
    unknown = names - set(types)
    if unknown:
        raise SystemExit(f"infra/scanners.yaml, {entry['id']}: no resource {sorted(unknown)} in the template")
    for cfn_type in entry.get("types") or []:
        names |= {k for k, t in types.items() if t == cfn_type}
    if entry.get("dead_letter_queues"):
        names |= dlqs
    return sorted(names - set(entry.get("except") or []))


def annotate(template: Json, generated: Json) -> None:
    """Write infra/scanners.yaml into `template` (the overlay merged over `generated`)."""
    table = load_table()
    resources: dict[str, Json] = template["Resources"]
    types = {k: v["Type"] for k, v in generated.get("Resources", {}).items()}
    types.update({k: v["Type"] for k, v in resources.items() if "Type" in v})
    view = {**generated.get("Resources", {}), **{k: v for k, v in resources.items() if "Type" in v}}
    dlqs = _dead_letter_queues(view)
    for entry in table.get("checkov") or []:
        reason = str(entry["reason"]).strip()
        if not reason:
            raise SystemExit(f"infra/scanners.yaml: {entry['id']} has no reason")
        names = selected(entry, types, dlqs)
        if not names:
            raise SystemExit(f"infra/scanners.yaml: checkov {entry['id']} selects no resource")
        for name in names:
            skips = resources.setdefault(name, {}).setdefault("Metadata", {}).setdefault(
                "checkov", {}).setdefault("skip", [])
            skips.append({"id": entry["id"], "comment": reason})
    for entry in table.get("cfn_lint") or []:
        if not str(entry.get("reason", "")).strip():
            raise SystemExit(f"infra/scanners.yaml: {entry['id']} has no reason")
        if entry.get("template"):
            targets = [template.setdefault("Metadata", {})]
        else:
            names = selected(entry, types, dlqs)
            if not names:
                raise SystemExit(f"infra/scanners.yaml: cfn-lint {entry['id']} selects no resource")
            targets = [resources.setdefault(n, {}).setdefault("Metadata", {}) for n in names]
        for meta in targets:
            checks = meta.setdefault("cfn-lint", {}).setdefault("config", {}).setdefault("ignore_checks", [])
            if entry["id"] not in checks:
                checks.append(entry["id"])


# -- running them --------------------------------------------------------------------------------
def run_checkov(template: Path) -> list[str]:
    if not CHECKOV.exists():
        return [f"{CHECKOV} is missing: make tools"]
    result = subprocess.run([str(CHECKOV), "-f", str(template), "--framework", "cloudformation", "-o", "json",
                             "--compact", "--skip-download"],
                            check=False, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [f"checkov did not report: {result.stderr[-2000:]}"]
    report = report[0] if isinstance(report, list) else report
    if report.get("summary", {}).get("parsing_errors"):
        return ["checkov could not parse the template"]
    results = report.get("results", {})
    problems = [f"checkov {f['check_id']} {f['resource']}: {f['check_name']}" for f in results.get("failed_checks", [])]
    skipped = {f["check_id"] for f in results.get("skipped_checks", [])}
    for entry in load_table().get("checkov") or []:
        if entry["id"] not in skipped:
            problems.append(f"infra/scanners.yaml: checkov {entry['id']} is skipped but no longer fails: remove it")
    summary = report.get("summary", {})
    print(f"checkov: {summary.get('passed')} passed, {summary.get('failed')} failed, "
          f"{summary.get('skipped')} skipped with a reason (infra/scanners.yaml)")
    return problems


def run_cfn_lint(template: Path) -> list[str]:
    lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(lint), "--append-rules", "cfn_lint_serverless.rules", "--", str(template)],
                            check=False, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        return [f"cfn-lint (serverless rules):\n{result.stdout}{result.stderr}"]
    print("cfn-lint with the serverless rules: no finding")
    return []


def run_bandit() -> list[str]:
    bandit = Path(sys.executable).with_name("bandit")
    result = subprocess.run([str(bandit), "-q", "-r", *BANDIT_TARGETS, "-x", ",".join(BANDIT_EXCLUDED),
                             "--severity-level", "medium", "-f", "json"],
                            cwd=ROOT, check=False, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return [f"bandit did not report: {result.stderr[-2000:]}"]
    problems = [f"bandit {r['test_id']} {r['filename']}:{r['line_number']} ({r['issue_severity']}): {r['issue_text']}"
                for r in report.get("results", [])]
    if report.get("errors"):
        problems += [f"bandit could not read {e['filename']}: {e['reason']}" for e in report["errors"]]
    if not problems:
        print("bandit: no medium or high finding")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", type=Path, default=ROOT / "build" / "sam.json")
    parser.add_argument("--only", choices=["checkov", "cfn-lint", "bandit"], action="append")
    args = parser.parse_args(argv)
    chosen = args.only or ["checkov", "cfn-lint", "bandit"]
    problems: list[str] = []
    if "checkov" in chosen:
        problems += run_checkov(args.template)
    if "cfn-lint" in chosen:
        problems += run_cfn_lint(args.template)
    if "bandit" in chosen:
        problems += run_bandit()
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
