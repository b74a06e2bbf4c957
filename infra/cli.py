"""The `divex` command line."""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import sys
import threading
from dataclasses import replace
from pathlib import Path

import click

from .cli_audit import audit
from .cli_cases import cases
from .cli_casework import CASEWORK_COMMANDS
from .cli_hits import hits
from .cli_import import import_cases
from .cli_onboarding import COMMANDS as ONBOARDING_COMMANDS
from .cli_projections import projections
from .cli_stream import relay
from .cli_support import exchange_of, read_password, refusals_as_messages
from .demo import DEMO_PASSWORD, DEMO_TOTP_SECRET, invite_newcomer, register_csv, seed
from .settings import DEMO_SECRET_KEY, load_settings, sqlite_url
from .wiring import Exchange, open_exchange, prepare_store


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """divex: the diversion case exchange of Arms Trade Treaty States Parties."""
    try:
        ctx.obj = load_settings()
    except ValueError as error:
        raise click.ClickException(f"Bad setting: {error}") from None


@main.command()
@click.option("--username", default="secretariat", show_default=True,
              help="User name of the first secretariat user.")
@click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Read the password from this file instead of prompting.")
@click.pass_context
@refusals_as_messages
def init(ctx: click.Context, username: str, password_file: Path | None) -> None:
    """Create the stores and the first secretariat user (safe to run twice)."""
    exchange = exchange_of(ctx)
    if exchange.directory.is_initialised():
        click.echo(f"Already initialised: {describe(exchange)}. Nothing changed.")
        return
    password = read_password(password_file, f"Password for {username}")
    secret = exchange.directory.initialise(username, password, "Secretariat")
    click.echo(f"Initialised {describe(exchange)}.")
    click.echo(f"Secretariat user: {username}")
    click.echo("Recovery secret of the secretariat keys (shown once, keep it offline):")
    click.echo(f"  {secret}")


@main.command()
@click.pass_context
@refusals_as_messages
def status(ctx: click.Context) -> None:
    """Print where the data lives and what it holds."""
    exchange = exchange_of(ctx)
    click.echo(status_text(exchange))


@main.command()
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False),
              default=lambda: Path(os.environ.get("DIVEX_DATA_DIR") or "demo-data"),
              show_default="DIVEX_DATA_DIR, else demo-data",
              help="Folder for the demo's SQLite files; emptied first.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--no-serve", is_flag=True, help="Seed the demo data, print the logins, exit.")
@click.pass_context
@refusals_as_messages
def demo(ctx: click.Context, data_dir: Path, host: str, port: int, no_serve: bool) -> None:
    """Seed a fresh demo exchange (fictional states, users, cases) and serve it."""
    marker = data_dir / ".divex-demo"
    if data_dir.exists() and any(data_dir.iterdir()) and not marker.exists():
        raise click.ClickException(f"{data_dir} holds data that is not a divex demo; "
                                   "choose another --data-dir.")
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(mode=0o700, parents=True)  # its SQLite files and keys: owner only
    marker.touch(mode=0o600)
    marker.write_text("created by `divex demo`; deleted by the next run\n")
    # On a loopback address the demo is plain HTTP on this machine: Secure cookies would never
    # come back. On any other address the DIVEX_SECURE_COOKIES setting holds (default on).
    settings = replace(ctx.obj, data_dir=data_dir, database_url=sqlite_url(data_dir),
                       secure_cookies=ctx.obj.secure_cookies and not is_loopback(host))
    prepare_store(settings)
    exchange = open_exchange(settings)
    ctx.call_on_close(exchange.close)
    click.echo("Seeding the demo exchange (fictional data)...")
    logins = seed(exchange)
    click.echo(status_text(exchange))
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
    for login in logins:
        click.echo(f"  {login.username:<18} {login.state}  {login.roles}")
    click.echo("\nState admins, auditors and the secretariat also need a second factor. Add "
               "this demo TOTP secret to an authenticator app (the same for all of them):\n"
               f"  {DEMO_TOTP_SECRET}\n"
               "or print the current code with: .venv/bin/python -c \"import pyotp; print("
               f"pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\"")
    click.echo("\nA pending invitation to try (user name fra.newcomer), to accept at "
               f"/invitations/accept:\n  {invite_newcomer(exchange)}")
    sample = data_dir / "demo-register.csv"
    sample.write_text(register_csv(), encoding="utf-8")
    sample.chmod(0o600)  # like everything in the data folder
    click.echo("\nA file to try the import with (Cases → Import cases, as fra.analyst):\n"
               f"  {sample}")
    if not no_serve:
        serve_exchange(exchange, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.pass_context
@refusals_as_messages
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the web app on the configured exchange."""
    if ctx.obj.secret_key == DEMO_SECRET_KEY:
        raise click.ClickException(
            "DIVEX_SECRET_KEY is not set: outside `divex demo` the server needs its own long "
            "random secret (e.g. `python3 -c 'import secrets; print(secrets.token_hex(32))'`).")
    serve_exchange(exchange_of(ctx), host, port)


def serve_exchange(exchange: Exchange, host: str, port: int) -> None:
    from web import create_app

    exchange.start_following()
    if exchange.settings.mail.smtp_url:
        start_mailer(exchange)
        click.echo("Sending notification mails (DIVEX_SMTP_URL) from this process.")
    click.echo(f"\nServing on http://{host}:{port}/ (Ctrl+C stops)")
    if exchange.settings.secure_cookies:
        click.echo("Secure cookies are on: put an HTTPS reverse proxy in front (it must send "
                   "X-Forwarded-Proto: https; see DIVEX_PROXY_HOPS); plain HTTP requests are "
                   "redirected to HTTPS.")
    create_app(exchange).run(host=host, port=port, threaded=True, use_reloader=False)


def start_mailer(exchange: Exchange) -> None:
    """The sender thread of `divex serve`: a daemon, so it ends with the server."""
    from .mailer import Mailer

    threading.Thread(target=Mailer(exchange).run, args=(threading.Event(),), daemon=True,
                     name="divex-mailer").start()


@main.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True)
@click.pass_context
@refusals_as_messages
def oracle(ctx: click.Context, host: str, port: int) -> None:
    """Serve the match oracle of private hits apart from the web processes (set
    DIVEX_ORACLE_URL on those): it alone reads the oracle key file."""
    if ctx.invoked_subcommand is not None:
        return
    from .oracle_server import create_oracle_app

    ctx.obj = settings = replace(ctx.obj, oracle_url="")  # this process is the oracle
    exchange = exchange_of(ctx)
    ctx.call_on_close(exchange.close)
    matcher = exchange.hits.oracle
    click.echo(f"Match oracle on http://{host}:{port}/ (key {matcher.key_id()}, "
               f"{settings.oracle_daily_limit} checks a state a day)")
    create_oracle_app(matcher, exchange.directory).run(host=host, port=port, threaded=True,
                                                       use_reloader=False)


@oracle.command("rotate")
@click.pass_context
@refusals_as_messages
def rotate_oracle_key(ctx: click.Context) -> None:
    """Replace the oracle's key. Every state's identifiers are entered again under the new
    key, in batches, as its analysts use divex; until then their hits wait."""
    from cases.hits.oracle import rotate_key

    exchange = exchange_of(ctx)
    ctx.call_on_close(exchange.close)
    key_id = rotate_key(ctx.obj.oracle_key_file, exchange.ledger.recorder.datastore.engine)
    click.echo(f"New oracle key {key_id}. Identifiers are entered again under it as each "
               "state's analysts use divex (a batch of cases a page).")


@main.command()
@click.option("--once", is_flag=True, help="One pass (queue, expand, send what is due), then "
              "exit.")
@click.option("--every", default=15.0, show_default=True, help="Seconds between passes.")
@click.pass_context
@refusals_as_messages
def mailer(ctx: click.Context, once: bool, every: float) -> None:
    """Send the notification mails (for the Scale-out set-up, or a server without `divex
    serve`): needs DIVEX_SMTP_URL and DIVEX_MAIL_FROM. Any number may run at once."""
    from .mailer import Mailer

    exchange = exchange_of(ctx)
    if not exchange.settings.mail.smtp_url:
        raise click.ClickException("DIVEX_SMTP_URL is not set: there is no server to send "
                                   "mails through.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sender = Mailer(exchange)
    if once:
        if exchange.settings.projection_source == "log":
            exchange.follow()
        done = sender.run_once()
        click.echo(", ".join(f"{k} {v}" for k, v in sorted(done.counts.items()) if v)
                   or "nothing to do")
        return
    click.echo("Sending notification mails (Ctrl+C stops).")
    stop = threading.Event()
    try:
        sender.run(stop, every)
    except KeyboardInterrupt:
        stop.set()


def is_loopback(host: str) -> bool:
    """True for localhost and 127.0.0.0/8 or ::1: reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def describe(exchange: Exchange) -> str:
    url = exchange.settings.database_url
    return f"event store at {url.split('@')[-1] if '@' in url else url}"


def status_text(exchange: Exchange) -> str:
    if not exchange.directory.is_initialised():
        return f"Not initialised ({describe(exchange)}). Run `divex init`."
    states = exchange.directory.states()
    users = sum(len(exchange.directory.users_of_state(s.code)) for s in states)
    events = exchange.ledger.recorder.max_notification_id() or 0
    lines = [f"divex: {describe(exchange)}",
             f"  events stored: {events}",
             f"  states: {len(states)} ({', '.join(s.code for s in states)})",
             f"  active users: {users}"]
    return "\n".join(lines)


for group in (audit, cases, hits, projections, relay, *ONBOARDING_COMMANDS):
    main.add_command(group)
for command in (*CASEWORK_COMMANDS, import_cases):
    cases.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
