"""The deployment zip and the layers: what Lambda loads, compiled, and checked before a deploy.

`recompile` drops what the runtime provides or a layer carries and adds .pyc compiled with
`--invalidation-mode unchecked-hash` (chalice ships no .pyc: every cold start would compile);
`build_layer` builds a layer from Lambda-compatible wheels of the pinned versions; `check` refuses
native code Lambda cannot load, files lost on the way and a zip above the size limit.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER_ROLE = "arn:aws:iam::000000000000:role/replaced-by-infra-package"
MAX_ZIP_BYTES = 20 * 1024 * 1024
ENV_LIMIT_BYTES = 4096  # Lambda's limit on one function's environment

Json = dict[str, Any]


# Left out of deployment.zip, each for a reason (tests/integration/test_package.py imports the app
# from the zip without them):
# - the AWS SDK (boto3, botocore, s3transfer): the python3.11 Lambda runtime provides it, and
#   botocore's service models alone are 16 MB zipped. The pinned version is what tests run on.
# - phonenumbers' geocoder, carrier and time zone data (6.5 MB zipped): the app only parses and
#   validates numbers (chalicelib.domain.identity); the three modules that read that data go too,
#   so using them fails at import, not with a half-present package.
EXCLUDED = (
    "boto3/", "boto3-", "botocore/", "botocore-", "s3transfer/", "s3transfer-",
    "phonenumbers/geodata/", "phonenumbers/carrierdata/", "phonenumbers/tzdata/",
    "phonenumbers/geocoder.py", "phonenumbers/carrier.py", "phonenumbers/timezone.py",
    # Powertools' Swagger UI assets serve its own API resolver; this app's API is Chalice.
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/",
)
# rapidfuzz ships each extension twice, the AVX2 build beside the baseline one, and imports the
# baseline when the AVX2 one is missing (its documented fallback): one copy is enough for the
# few hundred short texts a duplicate suggestion compares. The app uses only rapidfuzz.fuzz and
# rapidfuzz.utils; `process` and `distance` fall back to their pure-Python modules without their
# C++ builds. Together 2.5 MB zipped (tests/integration/test_package.py imports what stays).
_RAPIDFUZZ_AVX2 = re.compile(r"^rapidfuzz/((.+/)?[a-z_]+_avx2|process_cpp_impl|distance/metrics_cpp)"
                             r"\.cpython-[^/]+\.so$")
# Lambda python3.11 runs on Amazon Linux 2, glibc 2.26: native wheels must be manylinux <= 2.26.
MAX_GLIBC = (2, 26)
LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def excluded(name: str) -> bool:
    if _RAPIDFUZZ_AVX2.match(name):
        return True
    return any(name.startswith(prefix) if prefix.endswith(("/", ".py"))
               else name.startswith(prefix) and ".dist-info/" in name for prefix in EXCLUDED)


def dist_files(zf: zipfile.ZipFile, package: str) -> set[str]:
    """Every path of an installed distribution (from its RECORD), by package name."""
    norm = re.sub(r"[-_.]+", "_", package).lower()
    for name in zf.namelist():
        if name.endswith(".dist-info/RECORD") and name.count("/") == 1:
            dist = name.split("/")[0].removesuffix(".dist-info").rsplit("-", 1)[0]
            if re.sub(r"[-_.]+", "_", dist).lower() == norm:
                paths = {line.split(",")[0] for line in zf.read(name).decode().splitlines() if line}
                return paths | {name.rsplit("/", 1)[0] + "/"}
    return set()


def write_tree(tree: Path, dest: Path, modes: dict[str, int] | None = None) -> None:
    """Compile (unchecked-hash: valid whatever the file times, never re-checked) and zip."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode",
                    "unchecked-hash", str(tree)], check=True)
    tmp = dest.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            rel = path.relative_to(tree).as_posix()
            info = zipfile.ZipInfo(rel, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (modes or {}).get(rel, (0o755 if os.access(path, os.X_OK) else 0o644) << 16)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    shutil.move(str(tmp), dest)


def recompile(zip_path: Path, moved: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """Drop EXCLUDED and what went to a layer, add .pyc."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        with zipfile.ZipFile(zip_path) as zf:
            gone = set(moved)
            for package in moved:
                gone |= dist_files(zf, package)
            infos = [i for i in zf.infolist() if not excluded(i.filename)
                     and i.filename not in gone and not any(i.filename.startswith(g) for g in gone if g.endswith("/"))]
            zf.extractall(tree, members=infos)
        write_tree(tree, zip_path, {i.filename: i.external_attr for i in infos})


def pinned(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        name = re.split(r"[=<>\[ ;]", line.strip(), maxsplit=1)[0]
        if name and re.sub(r"[-_.]+", "_", name).lower() == re.sub(r"[-_.]+", "_", package).lower():
            return line.split("#", 1)[0].strip()
    raise SystemExit(f"layer package {package!r} is not pinned in requirements.txt")


def build_layer(name: str, packages: list[str], out: Path) -> Path:
    """A layer from Lambda-compatible wheels of the pinned versions (never a local build)."""
    wheels = out / ".wheels"
    requirements = [re.sub(r"\[.*?\]", "", pinned(p)) for p in packages]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--platform", "manylinux2014_x86_64", "--implementation", "cp", "--python-version", "3.11",
                    "-d", str(wheels), *requirements], check=True)
    tree = out / ".layers" / name
    shutil.rmtree(tree, ignore_errors=True)
    (tree / "python").mkdir(parents=True)
    for req in requirements:
        dist, version = req.split("==")
        norm = re.sub(r"[-_.]+", "_", dist).lower()
        found = [w for w in wheels.glob("*.whl")
                 if re.sub(r"[-_.]+", "_", w.name.split("-")[0]).lower() == norm and w.name.split("-")[1] == version]
        if not found:
            raise SystemExit(f"no Lambda-compatible wheel downloaded for {req}")
        with zipfile.ZipFile(found[0]) as zf:
            zf.extractall(tree / "python")
    dest = out / f"layer-{name}.zip"
    write_tree(tree, dest)
    return dest


def incompatible_binaries(zip_path: Path, prefix: str = "") -> list[str]:
    """Distributions with native code whose wheel tag will not load on Lambda python3.11."""
    bad = []
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        for wheel in (n for n in names if n.endswith(".dist-info/WHEEL") and n.count("/") == prefix.count("/") + 1):
            dist = wheel[len(prefix):].split("/")[0]
            files = {line.split(",")[0] for line in zf.read(wheel.replace("/WHEEL", "/RECORD")).decode().splitlines()
                     if line} if wheel.replace("/WHEEL", "/RECORD") in names else set()
            if not any(".so" in f for f in files):
                continue
            tags = [line.split(":", 1)[1].strip() for line in zf.read(wheel).decode().splitlines()
                    if line.startswith("Tag:")]
            if not any(compatible_tag(t) for t in tags):
                bad.append(f"{dist} ({', '.join(tags)})")
    return bad


def compatible_tag(tag: str) -> bool:
    platform = tag.rsplit("-", 1)[-1]
    for legacy, glibc in LEGACY_MANYLINUX.items():
        if platform == f"{legacy}_x86_64":
            return glibc <= MAX_GLIBC
    m = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", platform)
    return m is not None and (int(m.group(1)), int(m.group(2))) <= MAX_GLIBC


def missing_files(zip_path: Path, prefix: str = "") -> list[str]:
    """Files a distribution's RECORD lists that the zip lacks (chalice drops some `*.libs/`)."""
    missing = []
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        for record in (n for n in names if n.endswith(".dist-info/RECORD")):
            for line in zf.read(record).decode().splitlines():
                path = line.split(",")[0]
                if (path and not path.startswith("..") and "__pycache__" not in path and not path.endswith(".pyc")
                        and not excluded(path) and prefix + path not in names):
                    missing.append(prefix + path)
    return missing


def check(template: Json, zip_path: Path, layers: dict[str, Path] | None = None) -> list[str]:
    problems = []
    for archive, prefix in [(zip_path, "")] + [(path, "python/") for path in (layers or {}).values()]:
        for dist in incompatible_binaries(archive, prefix):
            problems.append(f"{archive.name}: {dist} has native code built for another glibc than Lambda's "
                            f"{MAX_GLIBC[0]}.{MAX_GLIBC[1]}: pin a version with a manylinux2014 wheel")
        lost = missing_files(archive, prefix)
        if lost:
            problems.append(f"{archive.name}: {len(lost)} files of installed packages are missing, e.g. {lost[:3]}")
    for name, res in template["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function" and res["Properties"].get("Role") == PLACEHOLDER_ROLE:
            problems.append(f"{name} kept the placeholder role")
    size = zip_path.stat().st_size
    if size > MAX_ZIP_BYTES:
        problems.append(f"deployment.zip is {size / 1e6:.1f} MB, above {MAX_ZIP_BYTES / 1e6:.0f} MB")
    return problems


def resolved_length(value: Any) -> int:
    """About how long a value is once CloudFormation resolves it (a queue URL or an ARN ~90)."""
    if isinstance(value, str):
        return len(value)
    text = json.dumps(value)
    if "resolve:secretsmanager" in text:
        return 48
    if '"Fn::GetAtt"' in text or "Url" in text or "Arn" in text:
        return 90
    return 40  # a Ref: a table or bucket name, a key alias, a pool id


def estimate_env(template: Json) -> dict[str, int]:
    """Rough size of each function's environment once resolved (Lambda allows 4 KB)."""
    sizes = {}
    for name, res in template["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function":
            env = res["Properties"].get("Environment", {}).get("Variables", {})
            sizes[name] = sum(len(k) + resolved_length(v) for k, v in env.items())
    return sizes
