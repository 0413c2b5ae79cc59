"""chalicelib/data/items.py builds the same items as PynamoDB, and its transaction fails as
PynamoDB's would."""
from __future__ import annotations

from typing import Any

import pytest


def _report(**overrides: Any) -> Any:
    from chalicelib.data.models import Location, Report, Reporter

    fields: dict[str, Any] = {
        "type": "pengaduan", "title": "Jalan rusak", "description": "Lubang besar", "category": "jalan_rusak",
        "kecamatan": "lembang", "privacy": "publik", "status": "diajukan",
        "location": Location(kecamatan="lembang", desa="Jayagiri", lat=-6.81, lon=107.61),
        "reporter": Reporter(name="Siti", phone="+6281234567890"), "nik_ciphertext": b"\x00\x01secret",
        "attachments": ["att_1"], "created_at": "2026-01-05T01:00:00+00:00", "created_month": "2026-01",
        "updated_at": "2026-01-05T01:00:00+00:00", "access_token_hash": "ab" * 32,
        "sla_state": {"reminded": ["x"]}, "sla_breached": True, "rating": 4,
    }
    fields.update(overrides)
    return Report("KBB-AAAA-BBBB", **fields)


@pytest.mark.parametrize("overrides", [
    {},
    {"reporter": None, "nik_ciphertext": None, "category": None, "sla_state": None, "rating": None},
    {"attachments": [], "location": None},
])
def test_items_equal_pynamodb_serialize(aws: dict[str, str], overrides: dict[str, Any]) -> None:
    from chalicelib.data import items
    from chalicelib.data.models import LedgerItem, ReportEvent

    if overrides.get("location", 1) is None:  # a required attribute left out: both refuse
        from pynamodb.exceptions import AttributeNullError

        with pytest.raises(AttributeNullError):
            items.item(_report(**overrides))
        with pytest.raises(AttributeNullError):
            _report(**overrides).serialize()
        return
    report = _report(**overrides)
    assert items.item(report) == report.serialize()
    event = ReportEvent("KBB-AAAA-BBBB", 1, at="2026-01-05T01:00:00+00:00", actor="pelapor", action="submit",
                        public=True, data={"type": "pengaduan"})
    assert items.item(event) == event.serialize()
    record = LedgerItem("req#x", fingerprint="f", response={"a": 1}, expires_at=1800000000)
    assert items.item(record) == record.serialize()


def test_a_stored_item_reads_back_through_the_model(aws: dict[str, str]) -> None:
    from chalicelib.data import items
    from chalicelib.data.models import Report

    report = _report()
    items.transact_write(Report, [items.put_new(report)])
    got = Report.get("KBB-AAAA-BBBB", consistent_read=True)
    assert got.serialize() == report.serialize()


def test_a_failed_condition_names_the_item_and_writes_nothing(aws: dict[str, str]) -> None:
    from chalicelib.data import items
    from chalicelib.data.models import Report, ReportEvent

    items.transact_write(Report, [items.put_new(_report())])
    event = ReportEvent("KBB-AAAA-BBBB", 1, at="2026-01-05T01:00:00+00:00", actor="pelapor", action="submit")
    with pytest.raises(items.Cancelled) as caught:
        items.transact_write(Report, [items.put_new(event), items.put_new(_report(title="again"))])
    assert caught.value.reasons == [None, "ConditionalCheckFailed"]
    assert list(ReportEvent.query("KBB-AAAA-BBBB")) == []
    assert Report.get("KBB-AAAA-BBBB").title == "Jalan rusak"


def _values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "tracking_id": "KBB-AAAA-BBBB", "type": "pengaduan", "title": "Jalan rusak", "description": "Lubang besar",
        "category": "jalan_rusak", "kecamatan": "lembang", "privacy": "publik", "status": "diajukan",
        "location": {"kecamatan": "lembang", "desa": "Jayagiri", "address": None, "lat": -6.81, "lon": 107.61},
        "reporter": {"name": "Siti", "email": None, "phone": "+6281234567890"}, "nik_ciphertext": b"\x00\x01s",
        "attachments": ["att_1"], "created_at": "2026-01-05T01:00:00+00:00", "created_month": "2026-01",
        "updated_at": "2026-01-05T01:00:00+00:00", "access_token_hash": "ab" * 32, "sla_state": {},
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize("overrides", [
    {},  # every default (version, event_seq, sla_breached, sp4n's own defaults, lists, source) applied
    {"reporter": None, "nik_ciphertext": None, "category": None, "sla_state": None, "incident_date": None},
    {"attachments": [], "sp4n": {"state": "synced", "attempts": 2}, "version": 7, "source": "mobile"},
])
def test_item_of_values_equals_the_built_model_s_item(aws: dict[str, str], overrides: dict[str, Any]) -> None:
    from chalicelib.data import items
    from chalicelib.data.models import Report, ReportEvent

    values = _values(**overrides)
    assert items.item_of(Report, values) == Report(**values).serialize()
    event = {"tracking_id": "KBB-AAAA-BBBB", "seq": 1, "at": "2026-01-05T01:00:00+00:00", "actor": "pelapor",
             "action": "submit", "public": True, "data": {"type": "pengaduan"}}
    assert items.item_of(ReportEvent, event) == ReportEvent(**event).serialize()
    assert items.put_new(Report, values) == items.put_new(Report(**values))


def test_item_of_refuses_what_the_model_refuses(aws: dict[str, str]) -> None:
    from pynamodb.exceptions import AttributeNullError

    from chalicelib.data import items
    from chalicelib.data.models import Report

    with pytest.raises(ValueError, match="does not exist"):
        items.item_of(Report, _values(colour="red"))
    missing = _values()
    del missing["title"]
    with pytest.raises(AttributeNullError):
        items.item_of(Report, missing)
    with pytest.raises(AttributeNullError):
        Report(**missing).serialize()
    with pytest.raises(AttributeNullError):  # a required attribute of a nested map
        items.item_of(Report, _values(location={"desa": "Jayagiri"}))
