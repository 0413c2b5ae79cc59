"""Answers are built from their route's response model (chalicelib/api/http.py: answer, build)."""
from __future__ import annotations

import json

import pytest
from chalice import Chalice
from chalice.test import Client

from chalicelib.api import http
from chalicelib.schemas import Out
from chalicelib.submission import ReportCreated

NIK = "3217014508900001"


class Health(Out):
    status: str
    detail: str | None = None


CREATED = {"tracking_id": "KBB-AAAA-BBBB", "access_token": "ABCD-EFGH-JKLM-NPQR", "status": "diajukan",
           "created_at": "2026-12-04T10:00:00+07:00", "due_at": None, "access_code_recoverable": True,
           "access_notice": "Simpan kode ini."}


def test_an_answer_is_serialised_from_its_model() -> None:
    assert json.loads(http.build(Health, {"status": "ok"})) == {"status": "ok", "detail": None}
    assert json.loads(http.build(ReportCreated, CREATED)) == CREATED  # pydantic-core alone
    assert json.loads(http.build(None, {"as": "it is"})) == {"as": "it is"}


@pytest.mark.parametrize("model", [Health, ReportCreated])
def test_a_field_the_model_does_not_declare_never_leaves_and_its_value_is_not_logged(model: type) -> None:
    value = {"status": "ok"} if model is Health else dict(CREATED)
    value["nik"] = NIK
    with pytest.raises(RuntimeError, match="nik: extra_forbidden") as caught:
        http.build(model, value)
    assert NIK not in str(caught.value) and caught.value.__cause__ is None


def test_a_route_answers_through_its_declared_model() -> None:
    app = Chalice("answers")
    seen = []

    @http.route("/answers-test", "GET", summary="test", tags=["test"], responses={200: Health})
    def view() -> object:
        return http.answer({"status": "ok", "secret": NIK} if seen else {"status": "ok"})

    app.route("/answers-test", methods=["GET"])(http.VIEWS[("GET", "/answers-test")])
    try:
        with Client(app) as client:
            assert client.http.get("/answers-test").json_body == {"status": "ok", "detail": None}
            seen.append(1)
            refused = client.http.get("/answers-test")
            assert refused.status_code == 500 and NIK not in refused.body.decode()
    finally:
        del http.VIEWS[("GET", "/answers-test")]
        http.OPERATIONS[:] = [op for op in http.OPERATIONS if op.path != "/answers-test"]
