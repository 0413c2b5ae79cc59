"""Public reference data: OPDs, categories (with their default OPD), the 16 kecamatan and their desa."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.api.http import answer, route
from chalicelib.data import reference
from chalicelib.schemas import Out


class OpdItem(Out):
    code: str
    name: str


class OpdList(Out):
    items: list[OpdItem]


class CategoryItem(Out):
    code: str
    name: str
    opd_code: str | None
    sensitive: bool = Field(description="health, children, social aid: the form suggests rahasia, and a "
                            "report sent without a privacy choice is rahasia")


class CategoryList(Out):
    items: list[CategoryItem]


class DesaItem(Out):
    code: str = Field(description="Kemendagri code, e.g. 32.17.01.2008")
    name: str


class KecamatanItem(Out):
    code: str
    name: str
    kemendagri_code: str | None = Field(default=None, description="e.g. 32.17.01")
    desa: list[DesaItem] = Field(default_factory=list, description="desa/kelurahan, by code")


class KecamatanList(Out):
    items: list[KecamatanItem]


_PUBLIC_HEADERS = {"Cache-Control": "public, max-age=300"}


@route("/opds", "GET", summary="OPDs (regional agencies)", tags=["reference"], responses={200: OpdList})
def opds() -> Any:
    # Contacts stay internal: only code and name are public.
    items = [{"code": c, "name": o["name"]} for c, o in sorted(reference.opds().items())]
    return answer({"items": items})


@route("/categories", "GET", summary="Report categories and their default OPD", tags=["reference"],
       responses={200: CategoryList})
def categories() -> Any:
    items = [{"code": c, "name": x["name"], "opd_code": x.get("opd_code"), "sensitive": bool(x.get("sensitive"))}
             for c, x in sorted(reference.categories().items())]
    return answer({"items": items})


@route("/kecamatan", "GET", summary="The 16 kecamatan of Kabupaten Bandung Barat and their desa/kelurahan",
       tags=["reference"], responses={200: KecamatanList})
def kecamatan() -> Any:
    items = sorted(({"code": c, "name": k["name"], "kemendagri_code": k.get("kemendagri_code"),
                     "desa": [{"code": d["code"], "name": d["name"]} for d in k.get("desa", ())]}
                    for c, k in reference.kecamatan().items()), key=lambda k: k["name"])
    return answer({"items": items})
