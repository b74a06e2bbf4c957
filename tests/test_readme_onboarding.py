"""The README's "Set up a real exchange" block, run line by line as written, in a fresh folder
on SQLite (and on a fresh PostgreSQL database), answering each prompt as its reader would
(passwords, the code the authenticator app shows, the invitation code they were sent). Only
the last line, which serves for good, is left out."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pyotp
import pytest

from cases.kernel.errors import NotFound
from infra.settings import load_settings
from infra.wiring import open_exchange
from projections.case_index import CaseFilter
from tests.broker import started_tansu
from tests.conftest import FAST_KDF, PASSWORD
from tests.services import fresh_postgres_database

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Set up a real exchange"


def readme_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index(SECTION):].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


class Reader:
    """Answers prompts from what the commands printed before, as a person copying would."""

    def __init__(self) -> None:
        self.printed = ""
        self.recovery: dict[str, list[str]] = {}

    def answer(self, prompt: str, output: str, line: str) -> str:
        if prompt.startswith("Code shown by your app"):
            secret = re.findall(r"secret=([A-Z2-7]+)", output)[-1]
            return pyotp.TOTP(secret).now()
        if prompt.startswith("Code from your authenticator app"):
            user = re.search(r"--user (\S+)", line).group(1)  # type: ignore[union-attr]
            return self.recovery[user].pop()
        if prompt.startswith("Invitation code"):
            return re.findall(r"^  (dvi_\S+)$", self.printed, re.M)[-1]
        return PASSWORD  # "Password for …", "Choose a password …", "Repeat for confirmation"

    def run(self, line: str, cwd: Path, env: dict[str, str]) -> str:
        # A new session has no controlling terminal: hidden prompts read stdin, as in CI.
        process = subprocess.Popen(["bash", "-c", line], cwd=cwd, env=env,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        assert process.stdin is not None and process.stdout is not None
        out, answered = b"", 0
        while True:
            ready, _, _ = select.select([process.stdout], [], [], 120)
            assert ready, f"{line!r} waits for nothing we can see: {out.decode()[-500:]}"
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
            text = out.decode(errors="replace")
            prompt = text.rsplit("\n", 1)[-1]
            if prompt.endswith(": ") and len(out) > answered:
                process.stdin.write((self.answer(prompt, text, line) + "\n").encode())
                process.stdin.flush()
                answered = len(out)
        assert process.wait(timeout=60) == 0, f"{line!r} failed:\n{out.decode()}"
        text = out.decode()
        self.printed += text
        if "enrol-second-factor" in line:
            user = re.search(r"--user (\S+)", line).group(1)  # type: ignore[union-attr]
            self.recovery[user] = re.findall(r"^  ([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})$",
                                             text, re.M)
        return text


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("scale-out", marks=pytest.mark.postgres)])
def setting(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The DIVEX_* settings a reader adds before the block: none for the default SQLite file;
    a fresh PostgreSQL database; or that plus the Scale-out set-up's broker and settings (the
    README's Tansu lines), the relay and a worker being started after `divex init`."""
    if request.param == "sqlite":
        yield {}
        return
    with fresh_postgres_database() as url:
        if request.param == "postgres":
            yield {"DIVEX_DATABASE_URL": url}
            return
        broker = started_tansu(tmp_path / "tansu.log")
        try:
            yield {"DIVEX_DATABASE_URL": url, "DIVEX_PROJECTION_SOURCE": "kafka",
                   "DIVEX_KAFKA_BOOTSTRAP": broker.bootstrap, "DIVEX_KAFKA_IDEMPOTENT": "0"}
        finally:
            broker.kill()


def start_in_background(command: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    log = (cwd / (command.split()[1] + ".log")).open("ab")
    return subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=cwd, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def test_the_readme_set_up_runs_as_written(tmp_path: Path, setting: dict[str, str]) -> None:
    lines = readme_lines()
    assert lines[-1].endswith("divex serve                       # plain HTTP on this "
                              "machine only")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIVEX_")}
    env.update({f"DIVEX_{k.upper()}": str(v) for k, v in FAST_KDF.items()})
    env["PYTHONPATH"] = str(ROOT)
    env.update(setting)
    reader, background = Reader(), []
    try:
        for line in lines[:-1]:
            if line.startswith("export "):
                # Keep what the line exports for the lines after it, as a shell would; the
                # line may run a command that asks for a password.
                dump = tmp_path / "env.dump"
                reader.run(f"{line} && env -0 > {dump}", tmp_path, env)
                items = dump.read_bytes().decode().split("\0")
                env = dict(item.split("=", 1) for item in items if "=" in item)
                continue
            shown = reader.run(line, tmp_path, env)
            if "divex init" in line and "DIVEX_PROJECTION_SOURCE" in setting:
                background = [start_in_background(command, tmp_path, env) for command in
                              (".venv/bin/divex relay",
                               ".venv/bin/divex projections run --source kafka")]
        assert "Rifles found at a border crossing" in shown and "KR-2291-7734" in shown
        settings = load_settings({**env, "DIVEX_DATA_DIR": str(tmp_path / env["DIVEX_DATA_DIR"])})
        exchange = open_exchange(settings)
        try:
            analyst = exchange.directory.authenticate("deu.analyst", PASSWORD)
            assert analyst.state == "DEU" and analyst.has("analyst")
            assert exchange.directory.user("fra.admin").second_factor
            case_id = env["CASE"]
            assert exchange.cases.view(analyst, UUID(case_id)).recipients == ["DEU", "FRA"]
            with pytest.raises(NotFound):
                exchange.cases.view(exchange.directory.unlock("secretariat", PASSWORD).viewer,
                                    UUID(case_id))
            # The read models list the case for DEU: built in this process, or by the worker.
            exchange.follow()
            deadline = time.monotonic() + 60
            while not exchange.case_index.view.list_for("DEU", CaseFilter())[1]:
                assert time.monotonic() < deadline, "the case never reached DEU's case list"
                time.sleep(0.2)
        finally:
            exchange.close()
    finally:
        for process in background:
            process.terminate()
            process.wait(10)
