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


# What a PynamoDB model does against its table (reads, writes; and `_get_connection`, its client).
# Outside
# chalicelib/data/ a model may be named (a type, an attribute of a report) but never called on.
TABLE_METHODS = frozenset({"query", "scan", "get", "batch_get", "batch_write", "count", "save", "update",
                           "delete", "exists", "refresh"})
MODELS_MODULE = "chalicelib.data.models"


def _model_names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names bound to a model class, names bound to the models module) by any import in `tree`."""
    classes: set[str] = set()
    modules_: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == MODELS_MODULE:
            classes.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "chalicelib.data":
            modules_.update(alias.asname or alias.name for alias in node.names if alias.name == "models")
        elif isinstance(node, ast.Import):
            modules_.update(alias.asname for alias in node.names if alias.name == MODELS_MODULE and alias.asname)
    return classes, modules_


def _receiver_root(node: ast.expr) -> tuple[str | None, int]:
    """The name a call's receiver starts from (`Report` in `Report.by_status.query`, in
    `Report(k).update` and in `models.Report.get`), and how many attribute steps lead to it."""
    steps = 0
    while True:
        if isinstance(node, ast.Attribute):
            node, steps = node.value, steps + 1
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Name):
            return node.id, steps
        else:
            return None, steps


def table_calls(source: str) -> list[str]:
    """`line: call` for every table method called on a model imported from chalicelib.data.models."""
    tree = ast.parse(source)
    classes, modules_ = _model_names(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "_get_connection":
            found.append((node.lineno, ast.unparse(node)))
            continue
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in TABLE_METHODS):
            continue
        root, steps = _receiver_root(node.func.value)
        if node.func.attr == "exists" and steps > int(root in modules_):
            continue  # `Report.sp4n.exists()`: a condition on an attribute, not the table's exists()
        if root in classes or (root in modules_ and steps >= 1):
            found.append((node.lineno, ast.unparse(node.func)))
    return [f"{line}: {call}" for line, call in sorted(found)]


def test_only_the_data_layer_calls_tables() -> None:
    # local/ is the development stack (it binds the models to the stack it creates); bind() is not
    # a table call, so it needs no exception and gets none.
    # Seen: calls on the model class, its indexes, an instance built in the call (`Model(k).save()`)
    # and the model's connection. Not seen: a method called on an instance held in a variable;
    # such an instance comes from a model call, which is seen.
    leaks = [f"{name}:{call}" for path in sorted(ROOT.rglob("*.py"))
             if not (name := str(path.relative_to(ROOT))).startswith("data/")
             for call in table_calls(path.read_text(encoding="utf-8"))]
    assert leaks == []


def test_the_table_check_sees_a_call() -> None:
    # Every shape that reached a table from a service before the data boundary was drawn.
    source = """
from chalicelib.data.models import Attachment, Report as R
from chalicelib.data import models

def f(ids):
    from chalicelib.data.models import LedgerItem
    R.by_status.count("baru")
    Attachment.batch_get(ids)
    R("x").update(actions=[])
    LedgerItem("k").save()
    models.ReferenceItem.query("k")
    R.x._get_connection()
    R.status == "baru"
    {}.get("a")
    models.bind()
    R.exists()
    R.sp4n.exists()
    models.Report.exists()
"""
    assert [call.split(":")[0] for call in table_calls(source)] == ["7", "8", "9", "10", "11", "12", "16", "18"]


def runtime_model_imports(source: str) -> bool:
    """Does the module import chalicelib.data.models other than under `if TYPE_CHECKING:`?"""
    def walk(node: ast.AST) -> bool:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                if any(walk(n) for n in child.orelse):
                    return True
                continue
            if isinstance(child, ast.ImportFrom) and child.level == 0 and (
                    child.module == MODELS_MODULE
                    or (child.module == "chalicelib.data" and any(a.name == "models" for a in child.names))):
                return True
            if isinstance(child, ast.Import) and any(a.name == MODELS_MODULE for a in child.names):
                return True
            if walk(child):
                return True
        return False
    return walk(ast.parse(source))


# Modules outside data/ that still import the models at run time: cli.py and local/ bind the
# models to the stack they point at; sync builds the report of a complaint filed on LAPOR!. The list may only shrink: a new module names the types
# under `if TYPE_CHECKING:` and calls chalicelib/data/ for everything else.
RUNTIME_MODEL_IMPORTS = {
    "cli.py", "local/provision.py", "local/pump.py",
    "services/sync.py",  # builds the report it imports from LAPOR! (reports.create takes a model)
}


def test_no_new_module_imports_the_models_at_run_time() -> None:
    found = {name for path in sorted(ROOT.rglob("*.py"))
             if not (name := str(path.relative_to(ROOT))).startswith("data/")
             and runtime_model_imports(path.read_text(encoding="utf-8"))}
    assert found <= RUNTIME_MODEL_IMPORTS, sorted(found - RUNTIME_MODEL_IMPORTS)


def test_the_import_check_sees_through_type_checking() -> None:
    assert not runtime_model_imports("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                     "    from chalicelib.data.models import Report\n")
    assert runtime_model_imports("def f():\n    from chalicelib.data import models\n")
    assert runtime_model_imports("import chalicelib.data.models as m\n")
