"""The README's "Set up a real exchange" block, run line by line as written, in a fresh folder
on SQLite (and on a fresh PostgreSQL database), answering each prompt as its reader would
(passwords, the code the authenticator app shows, the invitation code they were sent). Only
the last line, which serves for good, is left out."""

from __future__ import annotations

import os
import re
import select
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from infra.settings import load_settings
from infra.wiring import open_exchange
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None: the default SQLite file; else a fresh PostgreSQL database (the README says the
    same set-up runs there once DIVEX_DATABASE_URL is set)."""
    if request.param == "sqlite":
        yield None
    else:
        with fresh_postgres_database() as url:
            yield url


def test_the_readme_set_up_runs_as_written(tmp_path: Path, database_url: str | None) -> None:
    lines = readme_lines()
    assert lines[-1].endswith("divex serve                       # plain HTTP on this "
                              "machine only")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIVEX_")}
    env.update({f"DIVEX_{k.upper()}": str(v) for k, v in FAST_KDF.items()})
    env["PYTHONPATH"] = str(ROOT)
    if database_url:
        env["DIVEX_DATABASE_URL"] = database_url
    reader = Reader()
    for line in lines[:-1]:
        if line.startswith("export "):
            # Keep what the line exports for the lines after it, as a shell would.
            dump = subprocess.run(["bash", "-c", f"{line} && env -0"], cwd=tmp_path, env=env,
                                  check=True, capture_output=True).stdout.decode()
            env = dict(item.split("=", 1) for item in dump.split("\0") if "=" in item)
            continue
        reader.run(line, tmp_path, env)
    exchange = open_exchange(load_settings({**env, "DIVEX_DATA_DIR":
                                            str(tmp_path / env["DIVEX_DATA_DIR"])}))
    try:
        analyst = exchange.directory.authenticate("fra.analyst", PASSWORD)
        assert analyst.state == "FRA" and analyst.has("analyst")
        assert exchange.directory.user("fra.admin").second_factor
        assert exchange.cases.open_case(analyst, {"title": "After the README"})
    finally:
        exchange.close()
