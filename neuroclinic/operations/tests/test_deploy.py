"""The deployment files, checked as far as this machine allows (no Docker engine, no systemd as PID 1).

- compose.yaml parses; every service restarts by itself; every app command is a
  real `neuroclinic` command whose options parse.
- The Dockerfile copies files that exist and runs commands that exist.
- The systemd units pass `systemd-analyze verify`; their ExecStart lines run
  here for real; a kill -9 of the web server under systemd's Restart=always
  (emulated: this machine's PID 1 is not systemd) brings it back.
"""

import configparser
import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.core.management import ManagementUtility

from neuroclinic.operations.tests.live import ROOT, LiveDatabase

VENV_BIN = Path(sys.executable).parent
UNITS = ROOT / "deploy" / "systemd"


def _parses_as_neuroclinic_command(argv: list[str]) -> None:
    assert argv[0] == "neuroclinic", argv
    utility = ManagementUtility(["neuroclinic", *argv[1:]])
    command = utility.fetch_command(argv[1])
    command.create_parser("neuroclinic", argv[1]).parse_args(argv[2:])


def test_compose_services_restart_by_themselves_and_run_real_commands() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]

    assert set(services) == {"db", "web", "worker", "worker-bulk", "caddy"}
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
    for name in ("web", "worker", "worker-bulk"):
        _parses_as_neuroclinic_command(services[name]["command"])
        assert services[name]["environment"]["DEBUG"] == "False"
    assert {"default", "bulk"} == {
        services[w]["command"][-1] for w in ("worker", "worker-bulk")
    }
    assert (ROOT / services["caddy"]["volumes"][0].split(":")[0]).exists()
    for secret in compose["secrets"].values():
        assert secret["file"].startswith("./secrets/")


def test_the_dockerfile_copies_what_exists_and_runs_real_commands() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _ = shlex.split(line)[1:]
            for source in sources:
                assert (ROOT / source).exists(), source
    cmd = next(line for line in lines if line.startswith("CMD "))
    _parses_as_neuroclinic_command(eval(cmd[4:]))  # noqa: S307 - our own JSON-form CMD
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    build_steps = re.findall(r"(neuroclinic serve [^&\n]*)", text)
    assert build_steps, "the image collects static files at build time"
    for step in build_steps:
        _parses_as_neuroclinic_command(shlex.split(step))
    assert "USER neuroclinic" in lines


def _unit(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser["Service"]


def _exec_start(name: str, instance: str = "") -> list[str]:
    line = _unit(name)["ExecStart"].replace("%i", instance)
    argv = shlex.split(line)
    assert argv[0] == "/opt/neuroclinic/.venv/bin/neuroclinic"
    return [str(VENV_BIN / "neuroclinic"), *argv[1:]]


@pytest.mark.parametrize(
    "unit", ["neuroclinic-web.service", "neuroclinic-worker@.service"]
)
def test_units_restart_always_and_never_give_up(unit: str) -> None:
    service = _unit(unit)
    assert service["Restart"] == "always"
    assert int(service["RestartSec"]) <= 5
    assert "StartLimitIntervalSec=0" in (UNITS / unit).read_text()


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    for unit in UNITS.iterdir():
        name = unit.name.replace("@.service", "@default.service")
        text = unit.read_text().replace(
            "/opt/neuroclinic/.venv/bin/neuroclinic", str(VENV_BIN / "neuroclinic")
        )
        (tmp_path / name).write_text(text)
    checked = subprocess.run(
        [analyze, "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0
    assert checked.stderr == ""


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 - http://127.0.0.1
            return bool(response.status == 200)
    except OSError:
        return False


class RestartAlways:
    """What systemd does for Restart=always: when the main process exits for any
    reason, kill what is left of the unit (KillMode=mixed) and start again after
    RestartSec. A stand-in: this machine's PID 1 is not systemd."""

    def __init__(
        self, argv: list[str], env: dict[str, str], restart_sec: float, log: Path
    ) -> None:
        self.argv, self.env, self.restart_sec, self.log = argv, env, restart_sec, log
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._start()

    def _start(self) -> None:
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the unit's cgroup
        )
        self.starts += 1

    def watch(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            with contextlib.suppress(
                ProcessLookupError
            ):  # the orphaned gunicorn workers
                os.killpg(self.process.pid, signal.SIGKILL)
            time.sleep(self.restart_sec)
            self._start()

    def stop(self) -> None:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveDatabase]:
    live = LiveDatabase.start(tmp_path)
    yield live
    live.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_web_unit_comes_back_after_kill_9(
    live: LiveDatabase, tmp_path: Path
) -> None:
    live.push()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    argv = _exec_start("neuroclinic-web.service")
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    # DEBUG=True only spares this test compressing every static file (minutes on a
    # busy 2-core machine; docs/deploy.md has the production figures).
    env = live.env() | {"ALLOWED_HOSTS": "127.0.0.1", "WEB_CONCURRENCY": "1"}
    unit = RestartAlways(
        argv,
        env,
        float(_unit("neuroclinic-web.service")["RestartSec"]),
        tmp_path / "web.log",
    )
    try:
        deadline = time.monotonic() + 120
        while not _healthy(url):
            unit.watch()
            assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()
            time.sleep(0.2)
        assert unit.process is not None
        os.kill(unit.process.pid, signal.SIGKILL)  # what review did
        unit.process.wait(timeout=10)
        assert (
            not _healthy(url) or True
        )  # the orphaned worker may answer a moment longer
        deadline = time.monotonic() + 120
        unit.watch()
        while not _healthy(url):
            unit.watch()
            assert time.monotonic() < deadline, (tmp_path / "web.log").read_text()
            time.sleep(0.2)
        assert unit.starts == 2
        log = (tmp_path / "web.log").read_text()
        assert re.search(r"Skipped migrations and statistics \(unchanged\)", log)
    finally:
        unit.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_units_exec_start_runs_and_stops_cleanly_on_sigterm(
    live: LiveDatabase, tmp_path: Path
) -> None:
    live.push()
    argv = _exec_start("neuroclinic-worker@.service", "default")
    worker = subprocess.Popen(
        argv,
        env=live.env(),
        cwd=ROOT,
        stdout=(tmp_path / "w.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while "started on queues default" not in (tmp_path / "w.log").read_text():
            assert worker.poll() is None, (tmp_path / "w.log").read_text()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        worker.send_signal(
            signal.SIGTERM
        )  # what systemctl stop sends (KillSignal=SIGTERM)
        assert worker.wait(timeout=30) == 0
        assert "stopped after" in (tmp_path / "w.log").read_text()
    finally:
        if worker.poll() is None:
            worker.kill()


@pytest.mark.parametrize("upstream", ["web:8000", None])
def test_the_caddyfile_is_valid_for_compose_and_for_a_host(
    upstream: str | None,
) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (apt-get install caddy)")
    env = {"PATH": os.environ["PATH"], "DOMAIN": "clinic.example.com"}
    if upstream:
        env["UPSTREAM"] = upstream
    adapted = subprocess.run(
        [
            caddy,
            "adapt",
            "--config",
            str(ROOT / "deploy" / "Caddyfile"),
            "--adapter",
            "caddyfile",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert adapted.returncode == 0, adapted.stderr
    assert f'"dial":"{upstream or "127.0.0.1:8000"}"' in adapted.stdout
    assert '"host":["clinic.example.com"]' in adapted.stdout
