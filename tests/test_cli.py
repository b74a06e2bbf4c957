"""The `divex` command line: init is idempotent, refusals are one line without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from infra.cli import main
from infra.wiring import open_exchange, prepare_store
from tests.conftest import FAST_KDF, PASSWORD, make_settings, register_states


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {"DIVEX_DATA_DIR": str(tmp_path / "data")}
    values.update({f"DIVEX_{k.upper()}": str(v) for k, v in FAST_KDF.items()})
    return values


def test_init_creates_secretariat_then_says_already_initialised(tmp_path: Path, env) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD + "\n")
    runner = CliRunner()
    first = runner.invoke(main, ["init", "--password-file", str(password_file)], env=env)
    assert first.exit_code == 0, first.output
    assert "Initialised" in first.output and "Recovery secret" in first.output
    second = runner.invoke(main, ["init", "--password-file", str(password_file)], env=env)
    assert second.exit_code == 0
    assert "Already initialised" in second.output
    status = runner.invoke(main, ["status"], env=env)
    assert "states: 1 (XAT)" in status.output and "active users: 1" in status.output


def test_init_prompts_for_password_when_no_file(env) -> None:
    result = CliRunner().invoke(main, ["init"], env=env, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Secretariat user: secretariat" in result.output


def test_weak_password_is_a_clear_error_and_nothing_is_created(tmp_path: Path, env) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text("short")
    runner = CliRunner()
    result = runner.invoke(main, ["init", "--password-file", str(password_file)], env=env)
    assert result.exit_code == 1
    assert "Error: The password must have at least 12 characters. (password)" in result.output
    assert "Traceback" not in result.output
    assert "Not initialised" in runner.invoke(main, ["status"], env=env).output


def test_missing_password_file_is_a_clear_error(tmp_path: Path, env) -> None:
    result = CliRunner().invoke(main, ["init", "--password-file", str(tmp_path / "nope")],
                                env=env)
    assert result.exit_code == 1
    assert "Cannot read" in result.output and "Traceback" not in result.output


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path: Path, env) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    result = CliRunner().invoke(main, ["demo", "--data-dir", str(precious), "--no-serve"],
                                env=env)
    assert result.exit_code == 1
    assert (precious / "thesis.txt").exists()


def test_serve_refuses_the_demo_secret(env) -> None:
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 1
    assert "DIVEX_SECRET_KEY is not set" in result.output and "Traceback" not in result.output


def test_relay_without_a_broker_exits_with_one_clear_line(env) -> None:
    from tests.broker import free_port

    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    result = CliRunner().invoke(main, ["relay", "--once"],
                                env={**env, "DIVEX_KAFKA_BOOTSTRAP": address})
    assert result.exit_code == 1
    assert f"Cannot reach the Kafka broker at {address}" in result.output
    assert "Traceback" not in result.output


def test_kafka_workers_refuse_to_start_while_the_web_app_projects_in_process(env) -> None:
    result = CliRunner().invoke(main, ["projections", "run", "--source", "kafka"], env=env)
    assert result.exit_code == 1
    assert "DIVEX_PROJECTION_SOURCE=kafka" in result.output


def test_wsgi_entry_serves_from_the_environment_and_refuses_the_demo_secret(
        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIVEX_")}
    env["DIVEX_DATA_DIR"] = str(tmp_path)
    code = "from infra.wsgi import app; print(app.extensions['divex'].settings.data_dir)"
    refused = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=False)
    assert refused.returncode != 0 and "DIVEX_SECRET_KEY is not set" in refused.stderr
    env["DIVEX_SECRET_KEY"] = "a-long-random-secret-for-this-test"
    served = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=False)
    assert served.returncode == 0, served.stderr
    assert served.stdout.strip() == str(tmp_path)


def owner_only(folder: Path) -> dict[str, str]:
    """Every entry of the folder whose mode lets anyone but its owner in."""
    found = {p.name: oct(p.stat().st_mode & 0o777) for p in folder.iterdir()
             if p.stat().st_mode & 0o077}
    if folder.stat().st_mode & 0o077:
        found["."] = oct(folder.stat().st_mode & 0o777)
    return found


@pytest.fixture
def permissive_umask() -> object:
    """The operator's usual umask (022: new files 0644): divex must not rely on a stricter one."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_init_makes_the_data_folder_and_every_file_owner_only(tmp_path: Path, env,
                                                              permissive_umask) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD + "\n")
    result = CliRunner().invoke(main, ["init", "--password-file", str(password_file)], env=env)
    assert result.exit_code == 0, result.output
    data = Path(env["DIVEX_DATA_DIR"])
    names = {p.name for p in data.iterdir()}
    assert {"divex.sqlite", "log-signing.key", "subgroup.key"} <= names
    assert owner_only(data) == {}


def test_demo_makes_the_data_folder_and_every_file_owner_only(tmp_path: Path, env,
                                                              permissive_umask) -> None:
    data = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--data-dir", str(data), "--no-serve"],
                                env=env)
    assert result.exit_code == 0, result.output
    assert owner_only(data) == {}


def test_an_older_world_readable_database_is_made_owner_only(tmp_path: Path, env,
                                                             permissive_umask) -> None:
    data = Path(env["DIVEX_DATA_DIR"])
    data.mkdir(mode=0o700)
    for name in ("divex.sqlite", "divex.sqlite-wal"):
        (data / name).touch(mode=0o644)
    assert CliRunner().invoke(main, ["status"], env=env).exit_code == 0
    assert owner_only(data) == {}


def test_the_sqlite_side_files_are_owner_only_while_the_store_is_open(
        tmp_path: Path, permissive_umask) -> None:
    settings = make_settings(tmp_path / "data")
    prepare_store(settings)
    exchange = open_exchange(settings)
    try:
        register_states(exchange.directory, ("FRA",))
        names = {p.name for p in (tmp_path / "data").iterdir()}
        assert {"divex.sqlite-wal", "divex.sqlite-shm"} <= names
        assert owner_only(tmp_path / "data") == {}
    finally:
        exchange.close()
