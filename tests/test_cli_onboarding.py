"""A headless set-up with the `divex` command alone: init, second factors in the terminal,
a state registered, its admin and an analyst onboarded; refusals are one line, store nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import pyotp
import pytest
from click.testing import CliRunner

from infra.cli import main
from infra.settings import load_settings
from infra.wiring import open_exchange
from tests.conftest import FAST_KDF, PASSWORD
from tests.test_bulk_import import ALONE, CARTRIDGES, RIFLES, table

_INVITATION = re.compile(r"^  (dvi_\S+)$", re.M)
_RECOVERY = re.compile(r"^  ([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})$", re.M)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {"DIVEX_DATA_DIR": str(tmp_path / "data")}
    values.update({f"DIVEX_{k.upper()}": str(v) for k, v in FAST_KDF.items()})
    return values


@pytest.fixture
def password_file(tmp_path: Path) -> str:
    path = tmp_path / "pw"
    path.write_text(PASSWORD + "\n")
    return str(path)


def divex(env: dict[str, str], *args: str, ok: bool = True, stdin: str = "") -> str:
    result = CliRunner().invoke(main, list(args), env=env, input=stdin)
    assert (result.exit_code == 0) == ok, result.output
    assert "Traceback" not in result.output
    return result.output


def enrol_in_terminal(env: dict[str, str], username: str, password_file: str) -> list[str]:
    """Runs `divex account enrol-second-factor` as a person would: reads the secret it
    prints, types the code their app shows; returns the recovery codes."""
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "account", "enrol-second-factor", "--user",
         username, "--password-file", password_file],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **env})
    assert process.stdout is not None and process.stdin is not None
    seen = ""
    for line in process.stdout:
        seen += line
        if line.startswith("otpauth URI:"):
            break
    secret = re.search(r"secret=([A-Z2-7]+)", seen)
    assert secret, seen
    assert "█" in seen or "▀" in seen or "▄" in seen  # the QR code, drawn in the terminal
    process.stdin.write(pyotp.TOTP(secret.group(1)).now() + "\n")
    process.stdin.close()
    rest = process.stdout.read()
    assert process.wait(timeout=60) == 0, seen + rest
    codes = _RECOVERY.findall(rest)
    assert len(codes) == 10, rest
    return codes


def onboard_state(env: dict[str, str], password_file: str, secretariat: list[str],
                  state: str) -> list[str]:
    """Registers ``state`` and onboards its admin and an analyst, as the README says;
    returns the admin's unused recovery codes."""
    lower = state.lower()
    out = divex(env, "states", "register", state, "--status", "state_party", "--admin",
                f"{lower}.admin", "--user", "secretariat", "--password-file", password_file,
                "--code", secretariat.pop())
    code = _INVITATION.findall(out)[0]
    assert "out of band" in out
    out = divex(env, "invitations", "accept", "--username", f"{lower}.admin",
                "--password-file", password_file, stdin=code + "\n")
    assert "Recovery secret" in out and "enrol-second-factor" in out
    admin = enrol_in_terminal(env, f"{lower}.admin", password_file)
    out = divex(env, "users", "invite", f"{lower}.analyst", "--role", "analyst", "--role",
                "reviewer", "--user", f"{lower}.admin", "--password-file", password_file,
                "--code", admin.pop())
    invited = _INVITATION.findall(out)[0]
    out = divex(env, "invitations", "accept", invited, "--username", f"{lower}.analyst",
                "--password-file", password_file)
    assert f"user of {state}" in out and "Recovery secret" not in out
    # Used once: the same code again creates nothing.
    out = divex(env, "invitations", "accept", invited, "--username", f"{lower}.other",
                "--password-file", password_file, ok=False)
    assert "already used" in out
    return admin


def as_user(username: str, password_file: str) -> tuple[str, ...]:
    return ("--user", username, "--password-file", password_file)


def test_a_headless_set_up_from_an_empty_store(env: dict[str, str],
                                               password_file: str) -> None:
    divex(env, "init", "--password-file", password_file)
    secretariat = enrol_in_terminal(env, "secretariat", password_file)
    admin = onboard_state(env, password_file, secretariat, "FRA")
    onboard_state(env, password_file, secretariat, "DEU")
    listing = divex(env, "users", "list", "--user", "fra.admin", "--password-file",
                    password_file, "--code", admin.pop())
    assert re.search(r"fra\.admin\s+active\s+2FA\s+state_admin", listing)
    assert re.search(r"fra\.analyst\s+active\s+no 2FA\s+analyst, reviewer", listing)
    assert "deu.analyst" not in listing  # a state admin lists the users of its own state
    assert re.search(r"DEU  state_party.*\nFRA  state_party", divex(env, "states", "list"))

    # FRA's analyst logs a case with an item and shares it with DEU; DEU's analyst reads it.
    fra = as_user("fra.analyst", password_file)
    result = CliRunner().invoke(main, ["cases", "open", "--title", "Rifles found at Tessalit",
                                       "--point-of-diversion", "in_transit", *fra], env=env)
    assert result.exit_code == 0, result.output
    case_id = result.stdout.strip()
    divex(env, "cases", "add-item", case_id, "--category", "small_arms", "--quantity", "12",
          "--make", "Kalashnikov", "--serial", "KR-2291-7734", "--flags", "modular", *fra)
    deu = as_user("deu.analyst", password_file)
    assert "No such case" in divex(env, "cases", "show", case_id, *deu, ok=False)
    assert case_id not in divex(env, "cases", "list", *deu)
    out = divex(env, "cases", "share", case_id, "--tier", "bilateral", "--state", "deu", *fra)
    assert "now also read by: DEU" in out
    shown = divex(env, "cases", "show", case_id, *deu)
    assert "Rifles found at Tessalit" in shown and "serial: KR-2291-7734" in shown
    assert "read by DEU, FRA" in shown and "flags: modular" in shown
    assert "Rifles found at Tessalit" in divex(env, "cases", "list", *deu)
    # The secretariat, which registered both states, reads none of it.
    out = divex(env, "cases", "show", case_id, *as_user("secretariat", password_file),
                "--code", secretariat.pop(), ok=False)
    assert "Tessalit" not in out

    divex(env, "states", "rotate-keys", "--user", "fra.admin", "--password-file",
          password_file, "--code", admin.pop())
    exchange = open_exchange(load_settings(env))
    try:
        analyst = exchange.directory.authenticate("fra.analyst", PASSWORD)
        assert analyst.keyring.versions == (1, 2)
        # Keys rotated: the case logged under version 1 still opens for FRA.
        assert exchange.cases.view(analyst, UUID(case_id)).title == "Rifles found at Tessalit"
    finally:
        exchange.close()


def test_casework_refusals_name_the_field_and_write_nothing(env: dict[str, str],
                                                            password_file: str) -> None:
    divex(env, "init", "--password-file", password_file)
    secretariat = enrol_in_terminal(env, "secretariat", password_file)
    onboard_state(env, password_file, secretariat, "FRA")
    fra = as_user("fra.analyst", password_file)
    out = divex(env, "cases", "open", "--title", "", *fra, ok=False)
    assert "This field is required. (title)" in out
    case_id = CliRunner().invoke(main, ["cases", "open", "--title", "T", *fra],
                                 env=env).stdout.strip()
    out = divex(env, "cases", "add-item", case_id, "--category", "small_arms", "--quantity",
                "many", *fra, ok=False)
    assert "Enter a whole number. (quantity)" in out
    out = divex(env, "cases", "share", case_id, "--tier", "bilateral", "--state", "XXX", *fra,
                ok=False)
    assert "XXX is not a registered state" in out
    out = divex(env, "cases", "share", case_id, "--tier", "bilateral", *fra, ok=False)
    assert "Name the states" in out
    shown = divex(env, "cases", "show", case_id, *fra)
    assert "Items:" not in shown and "read by FRA ·" in shown and "version 1" in shown


def test_cases_are_imported_from_a_file_checked_first(env: dict[str, str], password_file: str,
                                                     tmp_path: Path) -> None:
    divex(env, "init", "--password-file", password_file)
    secretariat = enrol_in_terminal(env, "secretariat", password_file)
    onboard_state(env, password_file, secretariat, "FRA")
    fra = as_user("fra.analyst", password_file)
    bad, good = tmp_path / "bad.csv", tmp_path / "register.csv"
    bad.write_text(table(dict(RIFLES, quantity="2"), dict(ALONE, category="tanks")))
    out = divex(env, "cases", "import", str(bad), *fra, ok=False)
    assert "bad.csv: row 2, column serial: 3 serial numbers for 2 items" in out
    assert "row 3, column category" in out and "Nothing was imported: 2 problem(s)" in out
    good.write_text(table(RIFLES, CARTRIDGES, ALONE))
    out = divex(env, "cases", "import", str(good), "--dry-run", *fra)
    assert "would log 2 cases with 3 item lines. Nothing was stored." in out
    assert "0 of 0 cases" in divex(env, "cases", "list", *fra)
    out = CliRunner().invoke(main, ["cases", "import", str(good), *fra], env=env)
    assert out.exit_code == 0, out.output
    ids = out.stdout.split()
    assert len(ids) == 2 and "Imported 2 cases with 3 item lines" in out.stderr
    shown = divex(env, "cases", "show", ids[0], *fra)
    assert "Rifles at Kidira" in shown and "serial: KR-1" in shown


def test_a_user_whose_role_needs_a_second_factor_is_sent_to_enrol(
        env: dict[str, str], password_file: str) -> None:
    divex(env, "init", "--password-file", password_file)
    out = divex(env, "states", "register", "FRA", "--status", "state_party", "--admin",
                "fra.admin", "--user", "secretariat", "--password-file", password_file,
                ok=False)
    assert "must set up a second factor first" in out


def test_refusals_are_one_line(env: dict[str, str], password_file: str) -> None:
    divex(env, "init", "--password-file", password_file)
    codes = enrol_in_terminal(env, "secretariat", password_file)
    out = divex(env, "states", "register", "ZZZ", "--status", "state_party", "--admin",
                "z.admin", "--user", "secretariat", "--password-file", password_file,
                "--code", codes.pop(), ok=False)
    assert "Error: 'ZZZ' is not an ISO 3166-1 alpha-3 country code" in out
    out = divex(env, "invitations", "accept", "dvi_nope", "--username", "x.y",
                "--password-file", password_file, ok=False)
    assert "not an invitation code" in out


def test_the_demo_prints_a_pending_invitation_that_works(tmp_path: Path, env: dict[str, str],
                                                         password_file: str) -> None:
    demo_env = {**env, "DIVEX_DATA_DIR": str(tmp_path / "demo")}
    out = divex(demo_env, "demo", "--no-serve")  # DIVEX_DATA_DIR is honoured
    assert (tmp_path / "demo" / ".divex-demo").exists()
    code = _INVITATION.findall(out)[-1]
    out = divex(demo_env, "invitations", "accept", code, "--username", "fra.newcomer",
                "--password-file", password_file)
    assert "user of FRA with roles analyst" in out


def test_settings_and_store_errors_say_what_to_fix(env: dict[str, str]) -> None:
    out = divex({**env, "DIVEX_KDF_LANES": "four"}, "status", ok=False)
    assert "DIVEX_KDF_LANES must be a whole number, not 'four'" in out
    out = divex({**env, "DIVEX_INVITATION_DAYS": "0"}, "status", ok=False)
    assert "DIVEX_INVITATION_DAYS must be at least 1" in out
    out = divex({**env, "DIVEX_DATABASE_URL": "postgresql://127.0.0.1:5432/nowhere"},
                "status", ok=False)
    assert "postgresql+psycopg://" in out


def test_hits_on_the_command_line(env: dict[str, str], password_file: str) -> None:
    """Issue 20: an analyst lists its state's private hits and answers one; a refused answer
    is a one-line error, and the other state sees the answer."""
    divex(env, "init", "--password-file", password_file)
    secretariat = enrol_in_terminal(env, "secretariat", password_file)
    for code in ("FRA", "DEU"):
        onboard_state(env, password_file, secretariat, code)
    fra, deu = as_user("fra.analyst", password_file), as_user("deu.analyst", password_file)
    rifle = ("--category", "small_arms", "--quantity", "1", "--make", "Norvik",
             "--match-check", "yes")
    for who, serial in ((deu, "NA47-220914"), (fra, "na47 220914")):
        case_id = CliRunner().invoke(main, ["cases", "open", "--title", "Rifle", *who],
                                     env=env).stdout.strip()
        divex(env, "cases", "add-item", case_id, *rifle, "--serial", serial, *who)
    listed = divex(env, "hits", "list", *fra)
    hit_id, other = listed.split()[:2]
    assert other == "DEU" and "na47 220914" in listed and "yours: -" in listed
    out = divex(env, "hits", "answer", hit_id, "--answer", "dismissed", *fra)
    assert "answered dismissed" in out
    refused = divex(env, "hits", "answer", hit_id, "--answer", "dismissed", *fra, ok=False)
    assert "answered this hit already" in refused and "Traceback" not in refused
    assert "theirs: dismissed" in divex(env, "hits", "list", *deu)
