"""Public reference data: OPDs, categories (with their default OPD) and the 16 kecamatan."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from chalicelib.api.http import json_response, route
from chalicelib.data import reference


class OpdItem(BaseModel):
    code: str
    name: str


class OpdList(BaseModel):
    items: list[OpdItem]


class CategoryItem(BaseModel):
    code: str
    name: str
    opd_code: str | None
    sensitive: bool = Field(description="health, children, social aid: the form suggests rahasia, and a "
                            "report sent without a privacy choice is rahasia")


class CategoryList(BaseModel):
    items: list[CategoryItem]


class KecamatanItem(BaseModel):
    code: str
    name: str


class KecamatanList(BaseModel):
    items: list[KecamatanItem]


_PUBLIC_HEADERS = {"Cache-Control": "public, max-age=300"}


@route("/opds", "GET", summary="OPDs (regional agencies)", tags=["reference"], responses={200: OpdList})
def opds() -> Any:
    # Contacts stay internal: only code and name are public.
    items = [{"code": c, "name": o["name"]} for c, o in sorted(reference.opds().items())]
    return json_response({"items": items})


@route("/categories", "GET", summary="Report categories and their default OPD", tags=["reference"],
       responses={200: CategoryList})
def categories() -> Any:
    items = [{"code": c, "name": x["name"], "opd_code": x.get("opd_code"), "sensitive": bool(x.get("sensitive"))}
             for c, x in sorted(reference.categories().items())]
    return json_response({"items": items})


@route("/kecamatan", "GET", summary="The 16 kecamatan of Kabupaten Bandung Barat", tags=["reference"],
       responses={200: KecamatanList})
def kecamatan() -> Any:
    items = sorted(({"code": c, "name": k["name"]} for c, k in reference.kecamatan().items()), key=lambda k: k["name"])
    return json_response({"items": items})
