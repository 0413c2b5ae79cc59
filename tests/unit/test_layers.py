"""The layers of chalicelib, read from the import statements: only api/ knows Chalice (and the local
stack, which runs `chalice local`), the domain knows no AWS, no table and no service."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(under: str = "") -> dict[str, set[str]]:
    return {str(p.relative_to(ROOT)): imports_of(p) for p in sorted((ROOT / under).rglob("*.py"))}


def uses(imports: set[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in imports)


def test_only_the_api_layer_imports_chalice() -> None:
    leaks = {name for name, imports in modules().items()
             if uses(imports, "chalice") and not name.startswith(("api/", "local/"))}
    assert leaks == set()


def test_the_domain_imports_no_aws_no_tables_and_no_outer_layer() -> None:
    outer = ("boto3", "botocore", "pynamodb", "chalice", "chalicelib.data", "chalicelib.services",
             "chalicelib.adapters", "chalicelib.api")
    leaks = {(name, package) for name, imports in modules("domain").items() for package in outer
             if uses(imports, package)}
    assert leaks == set()


def test_the_check_sees_an_import() -> None:
    # The walk must find imports nested in functions too (the lazy imports of the handlers).
    assert uses(imports_of(ROOT / "api" / "http.py"), "chalice")
    assert uses(imports_of(ROOT.parent / "app.py"), "chalicelib.services")


def test_only_the_api_layer_parses_request_headers() -> None:
    # If-Match and Idempotency-Key are HTTP: chalicelib/api/http.py turns them into values.
    readers = {str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
               if not str(p.relative_to(ROOT)).startswith(("api/", "local/"))
               and any(h in p.read_text(encoding="utf-8").lower() for h in ('"if-match"', '"idempotency-key"'))}
    assert readers == set()
