"""Write chalicelib/config/national_days_off.json from the pinned `holidays` package.

Run after upgrading `holidays` (tests/unit/test_calendar.py fails until the file agrees with it):
    .venv/bin/python tools/national_days_off.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
YEARS = range(2024, 2036)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from importlib.metadata import version

    from chalicelib.domain.calendar import DAYS_OFF_FILE, national_days_off_from_package

    years = {str(y): sorted(d.isoformat() for d in national_days_off_from_package(y)) for y in YEARS}
    DAYS_OFF_FILE.write_text(json.dumps({"holidays_version": version("holidays"), "years": years}, indent=1) + "\n",
                             encoding="utf-8")
    print(f"{DAYS_OFF_FILE.relative_to(ROOT)}: {len(years)} years, holidays {version('holidays')}")


if __name__ == "__main__":
    main()
