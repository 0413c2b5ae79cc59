"""Defaults fail closed: no stage unless one is set (nothing local then), no local JWT verifier
inside Lambda, no plain-HTTP SP4N-LAPOR! outside the local stack, no per-process cursor key."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib import auth, config
from chalicelib.adapters.sp4n import Sp4nClient, Sp4nConfigError
from tests.staff_support import key_pair


@pytest.fixture
def no_stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("STAGE", "CURSOR_SECRET", "CURSOR_SECRET_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    config.reset()
    yield
    config.reset()


def test_an_unset_stage_is_no_stage_not_local(no_stage: None) -> None:
    assert config.settings().stage == ""
    assert config.settings().stage not in config.LOCAL_STAGES


def test_without_a_stage_the_local_key_opens_nothing(no_stage: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_JWT_PUBLIC_KEY", key_pair()[1])
    monkeypatch.delenv("COGNITO_USER_POOL_ID", raising=False)
    assert auth.verifier_from_env() is None
    assert auth.verifier_from_env({"LOCAL_JWT_PUBLIC_KEY": key_pair()[1]}) is None


def test_without_a_stage_list_cursors_need_a_real_key(no_stage: None) -> None:
    from chalicelib.services import staff_list

    with pytest.raises(RuntimeError, match="CURSOR_SECRET"):
        staff_list.cursor_key()


@pytest.mark.parametrize("stage", ["local", "test"])
def test_the_local_verifier_is_refused_inside_lambda(stage: str) -> None:
    env = {"LOCAL_JWT_PUBLIC_KEY": key_pair()[1], "JWT_ISSUER": "i", "JWT_AUDIENCE": "a", "STAGE": stage}
    assert auth.verifier_from_env(env) is not None
    assert auth.verifier_from_env({**env, "AWS_LAMBDA_FUNCTION_NAME": "lapor-kbb-dev-api"}) is None


def test_sp4n_needs_https_outside_the_local_stack() -> None:
    conf = {"SP4N_API_KEY": "k", "SP4N_API_TOKEN": "t"}
    for stage in ("prod", "dev", ""):
        with pytest.raises(Sp4nConfigError, match="https"):
            Sp4nClient.from_env({**conf, "STAGE": stage, "SP4N_BASE_URL": "http://api.lapor.example/v1"})
        ok = Sp4nClient.from_env({**conf, "STAGE": stage, "SP4N_BASE_URL": "https://api.lapor.example/v1"})
        assert ok.base_url == "https://api.lapor.example/v1"
    assert Sp4nClient.from_env({"STAGE": "local", "LAPOR_SP4N_PORT": "8123"}).base_url == "http://127.0.0.1:8123"


def test_sp4n_without_a_stage_has_no_standin_default() -> None:
    with pytest.raises(Sp4nConfigError, match="SP4N_BASE_URL"):
        Sp4nClient.from_env({"LAPOR_SP4N_PORT": "8123"})
