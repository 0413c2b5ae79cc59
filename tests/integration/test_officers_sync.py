"""`python -m chalicelib.cli officers-sync`: the officers table filled from the Cognito pool's `opd`
group (moto's Cognito), grouped by `custom:opd_code`; who is left out and why."""
from __future__ import annotations

import json
from typing import Any

import pytest


def _pool(cognito: Any) -> str:
    pool = cognito.create_user_pool(PoolName="staff", Schema=[
        {"Name": "opd_code", "AttributeDataType": "String", "Mutable": True}])["UserPool"]["Id"]
    for group in ("admin", "opd", "opd_admin", "pimpinan"):
        cognito.create_group(UserPoolId=pool, GroupName=group)

    def user(name: str, groups: tuple[str, ...], opd: str | None, phone: str | None = None) -> None:
        attrs = [{"Name": "email", "Value": f"{name}@opd.example.org"}, {"Name": "name", "Value": name.title()}]
        if opd is not None:
            attrs.append({"Name": "custom:opd_code", "Value": opd})
        if phone:
            attrs.append({"Name": "phone_number", "Value": phone})
        cognito.admin_create_user(UserPoolId=pool, Username=f"{name}@opd.example.org", UserAttributes=attrs)
        for group in groups:
            cognito.admin_add_user_to_group(UserPoolId=pool, Username=f"{name}@opd.example.org", GroupName=group)

    user("asep", ("opd",), "DPUPR", "+6281234500001")
    user("budi", ("opd",), "DPUPR")
    user("cici", ("opd",), "DINSOS")
    user("dedi", ("opd",), "NOSUCHOPD")           # an OPD the seed does not know
    user("euis", ("opd",), None)                  # no OPD at all
    user("fajar", ("opd", "admin"), "DPUPR")      # two staff groups: refused at sign-in anyway
    user("gita", ("opd_admin",), "DPUPR")         # the desk head assigns, is not an officer
    user("hendra", ("opd",), "DPUPR")
    cognito.admin_disable_user(UserPoolId=pool, Username="hendra@opd.example.org")
    return str(pool)


def test_sync_lists_the_opd_group_by_opd_code(aws: dict[str, str]) -> None:
    import boto3

    from chalicelib.data import officers as table
    from chalicelib.services import officers

    cognito = boto3.client("cognito-idp", region_name="ap-southeast-3")
    pool = _pool(cognito)
    outcome = officers.sync(cognito, pool)
    assert outcome["by_opd"] == {"DINSOS": 1, "DPUPR": 2}
    assert sorted(s.split(":")[0] for s in outcome["skipped"]) == sorted(
        ["dedi@opd.example.org", "euis@opd.example.org", "fajar@opd.example.org", "hendra@opd.example.org"])
    dpupr = table.for_opd("DPUPR")
    assert [o["name"] for o in dpupr] == ["Asep", "Budi"]
    assert dpupr[0]["phone"] == "+6281234500001" and dpupr[0]["email"] == "asep@opd.example.org"
    assert dpupr[0]["sub"] != "asep@opd.example.org"  # the user id (sub), what tokens carry
    # The sync replaces: the local seed's officers and anyone who left the group are gone.
    assert outcome["removed"] > 0 and table.get("DPUPR", "local-opd-dpupr") is None
    cognito.admin_remove_user_from_group(UserPoolId=pool, Username="budi@opd.example.org", GroupName="opd")
    again = officers.sync(cognito, pool)
    assert again["removed"] == 1 and [o["name"] for o in table.for_opd("DPUPR")] == ["Asep"]


def test_cli_command(aws: dict[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                     capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    from chalicelib import cli

    monkeypatch.setenv("LAPOR_STATE_DIR", str(tmp_path))  # no running stack's environment
    pool = _pool(boto3.client("cognito-idp", region_name="ap-southeast-3"))
    monkeypatch.delenv("COGNITO_USER_POOL_ID", raising=False)
    assert cli.main(["officers-sync"]) == 2
    assert cli.main(["officers-sync", "--user-pool-id", pool, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["officers"] == 3 and printed["by_opd"]["DPUPR"] == 2
