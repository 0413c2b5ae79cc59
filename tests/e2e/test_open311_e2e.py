"""Open311 over the real local stack (chalice local, moto server): a GeoReport v2 client from PyPI
(`georeport`, not written here) reads our services and requests in JSON and XML, and a partner
POSTs the spec's form with an api_key made by `python -m chalicelib.cli open311-key`.

georeport has no POST method, so the submission is the spec's form sent with `requests`; the
client then reads it back by id. The other Open311 packages on PyPI were tried and are Python 2
only (`open311` 1.1: implicit relative imports; `three` 0.8.0: itertools.ifilter).
"""
from __future__ import annotations

from typing import Any

import requests
from georeport import GeoReport

from chalicelib.local.stack import LocalStack
from tests.e2e.support import cli

FORM = {"service_code": "sampah", "attribute[kecamatan]": "ngamprah", "attribute[desa]": "32.17.06.2008",
        "lat": "-6.845", "long": "107.49", "address_string": "Jl. Raya Ngamprah 7",
        "description": "Sampah menumpuk di pinggir jalan dekat pasar, sudah satu minggu belum diangkut.",
        "first_name": "Rina", "last_name": "Marlina", "phone": "081234567890"}


def test_a_georeport_client_reads_and_a_partner_writes(stack: LocalStack, http: Any) -> None:
    root = f"{stack.api_url}/open311/v2"
    api_key = cli(stack, "open311-key", "--name", "Mitra E2E").strip().splitlines()[-1]
    assert api_key.startswith("o311_")

    refused = requests.post(f"{root}/requests.json", data={**FORM, "api_key": "o311_salah"}, timeout=30)
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403

    # A desa of another kecamatan (Mekarsari of Cipongkor) is refused like on the web form.
    elsewhere = requests.post(f"{root}/requests.json", data={**FORM, "attribute[desa]": "32.17.12.2011",
                                                             "api_key": api_key}, timeout=30)
    assert elsewhere.status_code == 400 and "desa" in elsewhere.json()[0]["description"]

    posted = requests.post(f"{root}/requests.json", data={**FORM, "api_key": api_key}, timeout=30)
    assert posted.status_code == 201, posted.text
    request_id = posted.json()[0]["service_request_id"]

    for fmt in ("json", "xml"):
        client = GeoReport(root, output_format=fmt)
        services = client.get_service_list()
        assert any(s["service_code"] == "sampah" for s in services)
        definition = client.get_service_definition("sampah")
        assert definition["service_code"] == "sampah"
        attributes = definition["attributes"]
        attributes = attributes["attribute"] if isinstance(attributes, dict) else attributes  # xmltodict
        desa = next(a for a in attributes if a["code"] == "desa")
        values = desa["values"]["value"] if isinstance(desa["values"], dict) else desa["values"]
        assert desa["datatype"] == "singlevaluelist" and len(values) == 165
        assert {"key": "32.17.06.2008", "name": "Mekarsari (Kec. Ngamprah)"} in [dict(v) for v in values]
        one = client.get_service_request(request_id)
        assert one["service_request_id"] == request_id and one["status"] == "open"
        assert one["address_id"] == "32.17.06.2008" and "Desa Mekarsari" in one["address"]
        assert one["service_code"] == "sampah" and "Rina" not in str(one) and "0812" not in str(one)
        listed = client.get_service_requests(service_code="sampah", status="open")
        rows = listed if isinstance(listed, list) else [listed]  # xmltodict: one element is a dict
        assert request_id in {r["service_request_id"] for r in rows}

    # Read from any web page: GETs are open to every origin.
    status, body, headers = http.call("GET", f"/open311/v2/requests/{request_id}.json",
                                      headers={"Origin": "https://peta.example.org"})
    assert status == 200 and body[0]["agency_responsible"]
    assert {k.lower(): v for k, v in headers.items()}["access-control-allow-origin"] == "*"
