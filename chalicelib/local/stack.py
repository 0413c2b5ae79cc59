"""`make run`: the whole service on this machine, in real processes talking real HTTP (moto, the
SP4N-LAPOR! stand-in, `chalice local`, the pump, the web client's server), provisioned from
infra/resources.yaml. Ctrl-C stops every process it started; tests start the same stack on free
ports through `LocalStack`. The parts and their ports: README.md, "Two commands".
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = Path(os.environ.get("LAPOR_STATE_DIR") or ROOT / ".local")  # tests run a stack of their own
ENV_FILE = STATE_DIR / "stack.env.json"
REGION = "ap-southeast-3"
SP4N_STATE_FILE = "sp4n-standin.json"  # in the data dir; written by the stand-in itself


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers: that is all we wait for
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@dataclass
class Ports:
    moto: int = 5000
    api: int = 8000
    sp4n: int = 8100
    web: int = 8080
    whatsapp: int = 8200

    @classmethod
    def from_env(cls) -> Ports:
        return cls(
            moto=int(os.environ.get("LAPOR_MOTO_PORT", 5000)),
            api=int(os.environ.get("LAPOR_API_PORT", 8000)),
            sp4n=int(os.environ.get("LAPOR_SP4N_PORT", 8100)),
            web=int(os.environ.get("LAPOR_WEB_PORT", 8080)),
            whatsapp=int(os.environ.get("LAPOR_WHATSAPP_PORT", 8200)),
        )

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), free_port(), free_port(), free_port())


@dataclass
class LocalStack:
    ports: Ports = field(default_factory=Ports.from_env)
    state_dir: Path = STATE_DIR
    pump_interval: float = 0.5
    sla_interval: float = 60.0
    with_web: bool = True
    log_dir: Path | None = None
    # Where the data is kept across restarts (chalicelib/local/snapshot.py); None: start empty
    # and keep nothing (the tests' stacks).
    data_dir: Path | None = None
    restored: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    @property
    def sp4n_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.sp4n}"

    @property
    def whatsapp_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.whatsapp}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.moto}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}"

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        out: Any = subprocess.DEVNULL
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the child)
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or self.env)}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def base_env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "STAGE": "local",
            "SP4N_BASE_URL": self.sp4n_url,
            "SP4N_API_KEY": "local-key",
            "SP4N_API_TOKEN": "local-token",
            "SP4N_LIST_ENDPOINT": "on",  # the stand-in has it: imports of complaints filed on LAPOR!
            # The WhatsApp Graph API stand-in, and the keys Meta would hold (webhook verification,
            # signature) as `wa-chat` needs them.
            "WHATSAPP_GRAPH_URL": self.whatsapp_url,
            "WHATSAPP_VERIFY_TOKEN": "local-verify-token",
            "WHATSAPP_APP_SECRET": "local-app-secret",
            "WHATSAPP_ACCESS_TOKEN": "local-access-token",
            "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
            "LAPOR_API_URL": self.api_url,
            "LAPOR_STATE_DIR": str(self.state_dir),
            "WEB_ORIGINS": f"{self.web_url},http://localhost:{self.ports.web}",
            "POWERTOOLS_METRICS_NAMESPACE": "LaporKBB",
            "POWERTOOLS_DEV": "false",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self) -> LocalStack:
        py = sys.executable
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.env = self.base_env()
        # moto with DynamoDB's per-request atomicity (see chalicelib/local/moto_server.py).
        moto = self._spawn("moto", [py, "-m", "chalicelib.local.moto_server", "-H", "127.0.0.1", "-p",
                                    str(self.ports.moto)])
        wait_http(f"{self.moto_url}/moto-api/", proc=moto)
        self.env.update(self._provision())
        self.env.update(self._prepare_hooks())
        if self.data_dir is not None:
            data_dir = self.data_dir
            self.restored = self._with_aws(lambda session: self._restore(session, data_dir))
        ENV_FILE.parent.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "stack.env.json").write_text(json.dumps(self.env, indent=1))

        standin = ROOT / "chalicelib" / "local" / "sp4n_standin.py"
        if standin.exists():
            args = [py, "-m", "chalicelib.local.sp4n_standin", "--port", str(self.ports.sp4n)]
            if self.data_dir is not None:  # LAPOR!'s side is kept with the rest of the data
                args += ["--state-file", str(self.data_dir / SP4N_STATE_FILE)]
            proc = self._spawn("sp4n", args)
            wait_http(f"{self.sp4n_url}/_standin/received", proc=proc)
        proc = self._spawn("whatsapp", [py, "-m", "chalicelib.local.whatsapp_standin", "--port",
                                        str(self.ports.whatsapp)])
        wait_http(f"{self.whatsapp_url}/_standin/sent", proc=proc)
        # chalice local with a backlog for concurrent clients (see chalicelib/local/api_server.py).
        api = self._spawn("api", [py, "-m", "chalicelib.local.api_server", "local", "--host", "127.0.0.1",
                                  "--port", str(self.ports.api), "--stage", "local", "--no-autoreload"])
        wait_http(f"{self.api_url}/health", timeout=60, proc=api)
        if (ROOT / "chalicelib" / "local" / "pump.py").exists():
            self._spawn("pump", [py, "-m", "chalicelib.local.pump", "--interval", str(self.pump_interval),
                                 "--sla-interval", str(self.sla_interval)])
        if self.with_web and (ROOT / "web" / "index.html").exists():
            # Serves web/ and answers config.local.js with this stack's API URL (no file written).
            web = self._spawn("web", [py, "-m", "chalicelib.local.web_server", "--bind", "127.0.0.1",
                                      "--port", str(self.ports.web), "--api", self.api_url,
                                      "--upload", self.moto_url])
            wait_http(self.web_url, proc=web)
        return self

    def _with_aws(self, work: Any) -> Any:
        """Run `work(session)` against this stack's moto, with its environment."""
        saved = dict(os.environ)
        try:
            os.environ.update(self.env)
            import boto3

            return work(boto3.Session(region_name=REGION))
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def _provision(self) -> dict[str, str]:
        from chalicelib.local import provision

        return self._with_aws(lambda session: provision.provision(session, "local"))  # type: ignore[no-any-return]

    def _restore(self, session: Any, data_dir: Path) -> dict[str, int]:
        from chalicelib.local import snapshot

        counts = snapshot.restore(session, self.env, data_dir)
        if counts:
            # The seed file wins over a saved copy of what it seeds (an edited seed takes effect);
            # what admins added (holiday overrides, partner keys) stays.
            from chalicelib.local import provision

            provision.load_seed()
            # The restored events were dispatched before the stop: the pump starts after them.
            snapshot.mark_stream_read(session, self.env["EVENTS_TABLE_STREAM_ARN"],
                                      self.state_dir / "pump-stream.json")
        return counts

    def save(self, data_dir: Path) -> dict[str, int]:
        """Copy the data out of moto into `data_dir` (the stack keeps running)."""
        from chalicelib.local import snapshot

        return self._with_aws(lambda session: snapshot.save(session, self.env, data_dir))  # type: ignore[no-any-return]

    def _prepare_hooks(self) -> dict[str, str]:
        """Extra local-only set-up that other parts register (e.g. the local JWT key)."""
        extra: dict[str, str] = {}
        try:
            from chalicelib.local import hooks
        except ImportError:
            return extra
        for hook in hooks.PREPARE:
            extra.update(hook(self))
        return extra

    def stop(self) -> None:
        moto = self.procs.get("moto")
        data_dir = self.data_dir
        if data_dir is not None and moto is not None and moto.poll() is None:
            # Everything that writes stops first, then the data is copied out of moto, then moto.
            for name, proc in list(self.procs.items()):
                if name != "moto":
                    self._terminate(proc)
            try:
                counts = self.save(data_dir)
                print(f"data kept in {data_dir}: " + ", ".join(f"{k.lower()} {n}" for k, n in counts.items()))
            except Exception as exc:  # noqa: BLE001 (stopping must go on; the previous copy stays)
                print(f"could not keep the data ({type(exc).__name__}: {exc}); the previous copy stays",
                      file=sys.stderr)
        for proc in reversed(list(self.procs.values())):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.procs.clear()

    @staticmethod
    def _terminate(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _banner(stack: LocalStack) -> str:
    return f"""
Lapor KBB is running locally.
  API         {stack.api_url}        (OpenAPI: {stack.api_url}/openapi.json)
  Web client  {stack.web_url}
  SP4N-LAPOR! stand-in  {stack.sp4n_url}   (what it received: {stack.sp4n_url}/_standin/received)
  WhatsApp stand-in     {stack.whatsapp_url}   (python -m chalicelib.cli wa-chat --demo)
  Embedded AWS (moto)   {stack.moto_url}

Try:
  curl -s {stack.api_url}/kecamatan
  curl -s -X POST {stack.api_url}/reports -H 'Content-Type: application/json' -d @docs/example-report.json
  .venv/bin/python -m chalicelib.cli token --role admin
  .venv/bin/python -m chalicelib.cli outbox

Ctrl-C stops everything.
"""


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "run":
        print("usage: python -m chalicelib.local.stack run", file=sys.stderr)
        return 2
    data_dir = STATE_DIR / "data"
    if os.environ.get("LAPOR_FRESH", "").lower() in ("1", "true", "yes"):
        shutil.rmtree(data_dir, ignore_errors=True)  # `make run FRESH=1`: start empty
    stack = LocalStack(log_dir=STATE_DIR / "logs", sla_interval=float(os.environ.get("LAPOR_SLA_INTERVAL", 60)),
                       data_dir=data_dir)
    stopping = False

    def _stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        stack.start()
        print(_banner(stack), flush=True)
        if stack.restored:
            print("Data of the previous run restored (make run FRESH=1 starts empty): "
                  + ", ".join(f"{k.lower()} {n}" for k, n in stack.restored.items()), flush=True)
        while not stopping:
            for name, proc in stack.procs.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; see .local/logs/{name}.log", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    finally:
        stack.stop()
        print("stopped.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
