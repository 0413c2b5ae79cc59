"""Open311 rendering and parameters, pure: the XML against the specification's own examples
(tests/fixtures/open311), file names split into id and format, bad parameters refused."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree as SafeET

from chalicelib.api import open311 as api
from chalicelib.domain.errors import DomainError
from chalicelib.services import open311

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "open311"


def shape(el: Any) -> Any:
    """Element names and nesting, without values or repetition."""
    return (el.tag, tuple(sorted({shape(c) for c in el})))


@pytest.mark.parametrize(("document", "example"), [
    ("services", "services"), ("requests", "requests"), ("errors", "errors"), ("requests", "post_request"),
    ("service_definition", "service_definition"),
])
def test_our_xml_of_the_specs_json_example_is_the_specs_xml_example(document: str, example: str) -> None:
    """Rendering the spec's JSON example gives the spec's XML example, element for element."""
    ours = SafeET.fromstring(api.to_xml(document, json.loads((SPEC / f"{example}.json").read_text())).encode())
    theirs = SafeET.parse(SPEC / f"{example}.xml").getroot()
    assert shape(ours) == shape(theirs)
    first_ours, first_theirs = ours.find(".//service_code"), theirs.find(".//service_code")
    if first_theirs is not None:
        assert first_ours is not None and first_ours.text == first_theirs.text


def test_xml_values_are_text_and_escaped() -> None:
    text = api.to_xml("requests", [{"description": "a < b & \"c\"", "metadata": True, "lat": None}])
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    req = SafeET.fromstring(text.encode())[0]
    assert req.findtext("description") == 'a < b & "c"'
    assert req.findtext("metadata") == "true" and req.findtext("lat") == ""


@pytest.mark.parametrize(("file", "expected"), [("KBB-7K3M-Q9XD.json", ("KBB-7K3M-Q9XD", "json")),
                                                ("jalan_rusak.xml", ("jalan_rusak", "xml")),
                                                ("a.b.json", ("a.b", "json"))])
def test_a_file_name_splits_into_id_and_format(file: str, expected: tuple[str, str]) -> None:
    assert api._split(file) == expected


@pytest.mark.parametrize("file", ["KBB-7K3M-Q9XD", "x.csv", ".json", "x.JSON.txt"])
def test_other_file_names_are_a_404(file: str) -> None:
    with pytest.raises(DomainError) as err:
        api._split(file)
    assert err.value.code == "not_found"


def test_the_format_comes_from_the_extension() -> None:
    assert api.format_of("/open311/v2/requests.xml", {}) == "xml"
    assert api.format_of("/open311/v2/requests/{request_file}", {"request_file": "KBB-1.xml"}) == "xml"
    assert api.format_of("/open311/v2/requests/{request_file}", {"request_file": "KBB-1.json"}) == "json"
    assert api.format_of("/open311/v2/services.json", None) == "json"


@pytest.mark.parametrize("params", [
    {"start_date": "2026-11-01"}, {"start_date": "2026-11-01T00:00:00"}, {"end_date": "besok"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}, {"status": "open,pending"},
    {"page": "-1"}, {"page_size": "0"}, {"page": "500", "page_size": "200"}, {"long": "107.5"},
    {"radius": "100"}, {"lat": "91", "long": "0"}, {"bbox": "107.6,-6.9,107.3,-6.7"}, {"bbox": "a,b,c,d"},
    {"updated_after": "2026-11-01T00:00:00Z", "start_date": "2026-11-01T00:00:00Z"},
])
def test_bad_parameters_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(DomainError) as err:
        api.parse_query(params)
    assert err.value.code == "validation_error" and err.value.message


def test_good_parameters_are_parsed() -> None:
    q = api.parse_query({"status": "open,closed", "page": "2", "page_size": "10", "lat": "-6.8", "long": "107.6",
                         "start_date": "2026-11-01T00:00:00+07:00", "end_date": "2026-11-30T00:00:00Z"})
    assert q.statuses == {"open", "closed"} and (q.page, q.page_size) == (2, 10)
    assert q.near == (-6.8, 107.6, 1000.0) and q.start is not None and q.start.utcoffset() is not None
    spaced = api.parse_query({"start_date": "2026-11-01T00:00:00 07:00"})  # '+' unescaped in a URL
    assert spaced.start is not None and spaced.start.isoformat().endswith("+07:00")


def test_distance_is_metres_on_the_ground() -> None:
    assert open311.distance_m(-6.8, 107.6, -6.8, 107.6) == 0
    assert 1100 < open311.distance_m(-6.8, 107.6, -6.81, 107.6) < 1120  # 0.01 degree of latitude
