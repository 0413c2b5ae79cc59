"""The docs name every index the template declares: an index nobody wrote down is an access
pattern a newcomer cannot find, and one docs/INFRA.md's staging steps may miss."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def declared_indexes() -> set[str]:
    text = (ROOT / "infra" / "resources.yaml").read_text(encoding="utf-8")
    return set(re.findall(r"IndexName:\s*([A-Za-z0-9_.-]+)", text))


def test_every_declared_index_is_named_in_the_design_notes() -> None:
    design = (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")
    indexes = declared_indexes()
    assert len(indexes) >= 11  # the check reads the template, not an empty match
    assert {name for name in indexes if f"`{name}`" not in design} == set()


def test_the_reports_tables_index_rows_form_one_table() -> None:
    # A paragraph in the middle of a Markdown table cuts it in two: the rows after it render as text.
    design = (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")
    block = design[design.index("| index | hash | range | serves |"):]
    rows = []
    for line in block.splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    reports_indexes = {"by_opd", "by_status", "by_month", "by_updated_month", "by_sweep", "by_retention",
                       "by_phone_hash", "by_email_hash", "by_sp4n_watch", "by_dupe_place"}
    assert {re.match(r"\| `([a-z0-9_]+)`", row).group(1) for row in rows} == reports_indexes  # type: ignore[union-attr]
