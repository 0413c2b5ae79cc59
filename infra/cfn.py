"""CloudFormation helpers shared by infra/ modules: loading the YAML templates and names.

The templates are read with cfn-lint's own loader (short-form tags such as `!Ref`, `!GetAtt A.B`,
`!Sub` become their long JSON form), the same reading `make lint` validates them with.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

APP = "lapor-kbb"
METRICS_NAMESPACE = "LaporKBB"

Json = dict[str, Any]


def load_cfn(path: Path) -> Json:
    """A CloudFormation YAML file as plain JSON data (cfn-lint's nodes carry line marks: dropped)."""
    from cfnlint.decode import cfn_yaml

    loaded: Json = json.loads(json.dumps(cfn_yaml.load(str(path))))
    return loaded


def env_name(output_key: str) -> str:
    """`ReportsTable` -> `REPORTS_TABLE` (the same rule as chalicelib.local.provision)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", output_key).upper()


def to_cfn(name: str) -> str:
    """A Chalice function name as chalice names its resource: `sla_sweep` -> `SlaSweep`, `api` -> `APIHandler`."""
    from chalice.utils import to_cfn_resource_name

    return "APIHandler" if name == "api" else str(to_cfn_resource_name(name))


def kebab(logical_id: str) -> str:
    if logical_id == "APIHandler":
        return "api"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", logical_id).lower()
