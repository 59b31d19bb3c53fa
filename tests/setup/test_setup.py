"""The one-command set-up: idempotent here, and installing only what is missing elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

from tests.support.infra import REPO, free_port

SETUP = REPO / "deploy" / "local" / "setup.sh"


def run_setup(env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SETUP)],
        cwd=REPO,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def dpkg_selections() -> str:
    return subprocess.run(
        ["dpkg", "--get-selections"], capture_output=True, text=True, check=True
    ).stdout


def test_running_setup_twice_installs_nothing_the_second_time() -> None:
    first = run_setup()
    assert first.returncode == 0, first.stderr
    packages = dpkg_selections()
    stamp = REPO / ".venv" / ".bridgework-installed"
    stamp_mtime = stamp.stat().st_mtime

    second = run_setup()
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-2:] == [
        "setup: started: nothing",
        "setup: installed: nothing",
    ]
    assert dpkg_selections() == packages
    assert stamp.stat().st_mtime == stamp_mtime


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/usr/bin/env bash\n" + textwrap.dedent(body))
    path.chmod(0o755)


def test_on_a_machine_without_rabbitmq_it_installs_starts_and_enables_management(
    tmp_path: Path,
) -> None:
    """A fresh machine, simulated: no rabbitmq-server on PATH, nothing on its port, one
    library missing. Package manager and broker commands are stubs that record their calls;
    the broker stub listens on the port the way a started broker would."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    calls = tmp_path / "calls.log"
    port = free_port()
    _stub(
        stubs,
        "apt-get",
        f"""\
        echo "apt-get $*" >> {calls}
        case "$*" in
          *" rabbitmq-server"*) mv {stubs}/.rabbitmq-server {stubs}/rabbitmq-server ;;
        esac
        """,
    )
    _stub(stubs, "rabbitmq-plugins", f'echo "rabbitmq-plugins $*" >> {calls}\n')
    _stub(stubs, "rabbitmqctl", f'echo "rabbitmqctl $*" >> {calls}\n')
    _stub(  # "installed" by the apt-get stub
        stubs,
        ".rabbitmq-server",
        f"""\
        echo "rabbitmq-server $*" >> {calls}
        nohup {shutil.which("python3")} -c '
        import socket, time
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", {port})); s.listen(); time.sleep(20)' >/dev/null 2>&1 &
        """,
    )
    _stub(
        stubs,
        "dpkg-query",
        # Everything is installed except one library the stack needs.
        """\
        case "$*" in *libharfbuzz-subset0*) exit 1 ;; *) echo -n "install ok installed" ;; esac
        """,
    )
    # /usr/sbin (where Debian puts rabbitmq-server) is left off PATH: "not installed".
    path = f"{stubs}:{Path(shutil.which('python3')).parent}:/usr/local/bin:/usr/bin:/bin"
    env = {**os.environ, "PATH": path, "BRIDGEWORK_RABBIT_PORT": str(port)}

    result = run_setup(env)

    assert result.returncode == 0, result.stdout + result.stderr
    recorded = calls.read_text().splitlines()
    installs = [line for line in recorded if line.startswith("apt-get") and " install " in line]
    assert len(installs) == 1
    assert installs[0].split()[-2:] == ["rabbitmq-server", "libharfbuzz-subset0"]
    assert "postgresql" not in installs[0]  # it is running: left alone
    assert "rabbitmq-plugins enable --offline rabbitmq_management" in recorded
    assert "rabbitmq-server -detached" in recorded
    assert result.stdout.splitlines()[-2:] == [
        "setup: started: rabbitmq",
        "setup: installed: rabbitmq-server libharfbuzz-subset0",
    ]


def test_a_test_run_that_collects_nothing_fails() -> None:
    empty = subprocess.run(
        ["make", "--no-print-directory", "test-suites", "PYTEST_FLAGS=-k no_test_is_named_this"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert empty.returncode != 0
    assert "no tests ran" in empty.stdout or "deselected" in empty.stdout
