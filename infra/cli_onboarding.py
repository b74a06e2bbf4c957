"""Headless set-up: `divex states`, `divex invitations`, `divex users` and `divex account`.

Each command that acts for someone signs in as that user (`--user`), second factor included,
as the web does. Invitation codes and recovery secrets are printed once and stored nowhere.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import click
import segno

from cases.identity.directory import SECRETARIAT_ROLES, STATE_ROLES, STATE_STATUSES
from cases.identity.second_factor import new_secret, provisioning_uri, spaced
from web.sign_ins import SignIns

from .cli_support import CODE, exchange_of, read_password, refusals_as_messages, sign_in

PASSWORD_FILE = click.option("--password-file", type=click.Path(path_type=Path, dir_okay=False),
                             help="Read the password from this file instead of prompting.")
ROLE = click.option("--role", "roles", multiple=True, required=True,
                    type=click.Choice(sorted(STATE_ROLES | SECRETARIAT_ROLES)),
                    help="A role to give (repeat for several).")


def user_option(who: str) -> Any:
    return click.option("--user", "username", required=True, help=f"Act as this {who}.")


def _issued(issued: Any) -> None:
    invitation = issued.invitation
    click.echo(f"Invitation for {invitation.username} ({invitation.state}, "
               f"{', '.join(invitation.roles)}), valid until "
               f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC. The code, shown once:")
    click.echo(f"  {issued.code}")
    click.echo("Send it out of band, by a channel you trust. They accept it on the web "
               "(/invitations/accept) or with: divex invitations accept")


@click.group()
def states() -> None:
    """Register states (secretariat), list them, rotate your state's keys (state admin)."""


@states.command("register")
@click.argument("state_code", metavar="CODE")
@click.option("--status", type=click.Choice(STATE_STATUSES), required=True)
@click.option("--admin", "admin", required=True, help="User name of its first state admin.")
@click.option("--display-name", default="", help="Full name of that admin.")
@user_option("secretariat user")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def register(ctx: click.Context, state_code: str, status: str, admin: str, display_name: str,
             username: str, password_file: Path | None, code: str | None) -> None:
    """Register a state (ISO 3166-1 alpha-3 CODE) by inviting its first admin; prints the
    invitation code. The state's keys are made when that admin accepts."""
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    _issued(exchange.onboarding.register_state(viewer, state_code, status, admin,
                                               display_name))


@states.command("list")
@click.pass_context
@refusals_as_messages
def list_states(ctx: click.Context) -> None:
    """Every registered state with its status and key version."""
    for state in exchange_of(ctx).directory.states():
        click.echo(f"{state.code}  {state.status:<12} keys v{state.public_keys.version}  "
                   f"{state.name}")


@states.command("status")
@click.argument("state_code", metavar="CODE")
@click.option("--status", type=click.Choice(STATE_STATUSES), required=True)
@user_option("secretariat user")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def change_status(ctx: click.Context, state_code: str, status: str, username: str,
                  password_file: Path | None, code: str | None) -> None:
    """Change a state's status. A signatory that ratifies becomes a State Party: it receives
    cases shared on the portal from then on, and those already there once an analyst of each
    owner state next lists its cases (only the owner holds their keys); its consent is asked
    for the tier-1 summaries of cases that concern it."""
    exchange = exchange_of(ctx)
    state = exchange.onboarding.change_state_status(
        sign_in(exchange, username, password_file, code), state_code, status)
    click.echo(f"{state.code} is now {state.status}.")


@states.command("suspend")
@click.argument("state_code", metavar="CODE")
@click.option("--reinstate", is_flag=True, help="Restore the access instead.")
@user_option("secretariat user")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def suspend(ctx: click.Context, state_code: str, reinstate: bool, username: str,
            password_file: Path | None, code: str | None) -> None:
    """Suspend a state's access (its users cannot sign in, its API tokens are refused;
    nothing is deleted), or restore it with --reinstate."""
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    if reinstate:
        state = exchange.onboarding.reinstate_state(viewer, state_code)
        click.echo(f"The access of {state.code} is restored.")
        return
    state = exchange.onboarding.suspend_state(viewer, state_code)
    click.echo(f"The access of {state.code} is suspended.")


@states.command("reinvite-admin")
@click.argument("state_code", metavar="CODE")
@click.option("--admin", "admin", required=True, help="User name of the new state admin.")
@click.option("--display-name", default="", help="Full name of that admin.")
@user_option("secretariat user")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def reinvite_admin(ctx: click.Context, state_code: str, admin: str, display_name: str,
                   username: str, password_file: Path | None, code: str | None) -> None:
    """Invite a new state admin for a state that lost all of its admins; accepting needs
    the state's recovery secret (divex invitations accept --recovery-secret-file)."""
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    _issued(exchange.onboarding.reinvite_state_admin(viewer, state_code, admin, display_name))


@states.command("rotate-keys")
@user_option("state admin")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def rotate_keys(ctx: click.Context, username: str, password_file: Path | None,
                code: str | None) -> None:
    """Make a new version of your state's keys.

    Case keys are given to your state under the new key from now on and its events are
    signed with it; older versions stay in the keyring, so nothing readable becomes
    unreadable. Every active user and pending invitation receives the new keyring; users
    signed in on the web sign in again.
    """
    exchange = exchange_of(ctx)
    rotated = exchange.onboarding.rotate_keys(sign_in(exchange, username, password_file, code))
    click.echo(f"{rotated.state}'s keys are rotated: key version "
               f"{rotated.keyring.current.version}.")


@click.group()
def invitations() -> None:
    """Accept an invitation; list or revoke the ones you issued."""


@invitations.command("accept")
@click.argument("invitation_code", required=False)
@click.option("--username", required=True, help="The user name given with the code.")
@click.option("--display-name", default="", help="Your full name.")
@PASSWORD_FILE
@click.option("--recovery-secret-file", type=click.Path(path_type=Path, dir_okay=False),
              help="Only for a state admin the secretariat invited because the state lost "
                   "its admins: the state's recovery secret, from this file.")
@click.pass_context
@refusals_as_messages
def accept(ctx: click.Context, invitation_code: str | None, username: str, display_name: str,
           password_file: Path | None, recovery_secret_file: Path | None) -> None:
    """Accept an invitation and choose your password (the code is asked for if not given,
    which keeps it out of the shell's history)."""
    exchange = exchange_of(ctx)
    text = invitation_code or click.prompt("Invitation code", hide_input=True)
    password = read_password(password_file, f"Choose a password for {username}")
    recovery = read_password(recovery_secret_file, "") if recovery_secret_file else ""
    welcome = exchange.onboarding.accept(text, username, password, display_name, recovery)
    user = welcome.unlocked.user
    click.echo(f"Welcome, {user.username}: user of {user.state} with roles "
               f"{', '.join(user.roles)}.")
    if welcome.recovery_secret:
        click.echo(f"{user.state} is registered and its keys are made. Recovery secret of "
                   "its keys (shown once, keep it offline):")
        click.echo(f"  {welcome.recovery_secret}")
    if user.needs_second_factor:
        click.echo("Your roles require a second factor: sign in on the web, or run "
                   f"divex account enrol-second-factor --user {user.username}")


@invitations.command("list")
@user_option("state admin or secretariat user")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def list_invitations(ctx: click.Context, username: str, password_file: Path | None,
                     code: str | None) -> None:
    """The invitations you manage, newest first."""
    exchange = exchange_of(ctx)
    onboarding = exchange.onboarding
    for invitation in onboarding.invitations(sign_in(exchange, username, password_file, code)):
        status = invitation.status
        if status == "pending" and not onboarding.is_open(invitation):
            status = "expired"
        click.echo(f"{invitation.id}  {invitation.state}  {invitation.username:<20} "
                   f"{status:<9} until {invitation.expires_at:%Y-%m-%d %H:%M}  "
                   f"{', '.join(invitation.roles)}")


@invitations.command("revoke")
@click.argument("invitation_id")
@user_option("state admin or secretariat user")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def revoke(ctx: click.Context, invitation_id: str, username: str,
           password_file: Path | None, code: str | None) -> None:
    """Revoke a pending invitation: its code stops working."""
    exchange = exchange_of(ctx)
    invitation = exchange.onboarding.revoke(
        sign_in(exchange, username, password_file, code), invitation_id)
    click.echo(f"The invitation for {invitation.username} is revoked.")


@click.group()
def users() -> None:
    """Invite and manage the users of your state (state admin)."""


@users.command("invite")
@click.argument("new_username")
@ROLE
@click.option("--display-name", default="", help="Their full name.")
@user_option("state admin")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def invite(ctx: click.Context, new_username: str, roles: tuple[str, ...], display_name: str,
           username: str, password_file: Path | None, code: str | None) -> None:
    """Invite a user of your state; prints the invitation code."""
    exchange = exchange_of(ctx)
    viewer = sign_in(exchange, username, password_file, code)
    _issued(exchange.onboarding.invite_user(viewer, new_username, list(roles), display_name))


@users.command("list")
@user_option("state admin")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def list_users(ctx: click.Context, username: str, password_file: Path | None,
               code: str | None) -> None:
    """The users of your state with roles, second factor and whether active."""
    exchange = exchange_of(ctx)
    found = exchange.onboarding.users(sign_in(exchange, username, password_file, code))
    last = SignIns(exchange.keystore.engine).last([str(u.id) for u in found])
    for user in found:
        factor = "2FA" if user.second_factor else "no 2FA"
        seen = f"{last[str(user.id)][0]:%Y-%m-%d %H:%M}" if str(user.id) in last else "never"
        click.echo(f"{user.username:<24} {'active' if user.active else 'deactivated':<12} "
                   f"{factor:<7} {', '.join(user.roles):<32} last web sign-in: {seen}")


@users.command("roles")
@click.argument("target")
@ROLE
@user_option("state admin")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def change_roles(ctx: click.Context, target: str, roles: tuple[str, ...], username: str,
                 password_file: Path | None, code: str | None) -> None:
    """Give a user of your state exactly these roles."""
    exchange = exchange_of(ctx)
    user = exchange.onboarding.change_roles(sign_in(exchange, username, password_file, code),
                                            target, list(roles))
    click.echo(f"{user.username} now has the roles {', '.join(user.roles)}.")


@users.command("deactivate")
@click.argument("target")
@user_option("state admin")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def deactivate(ctx: click.Context, target: str, username: str, password_file: Path | None,
               code: str | None) -> None:
    """Deactivate a user of your state: they can no longer sign in; nothing is deleted."""
    exchange = exchange_of(ctx)
    exchange.onboarding.deactivate(sign_in(exchange, username, password_file, code), target)
    click.echo(f"{target} is deactivated.")


@users.command("reactivate")
@click.argument("target")
@user_option("state admin")
@PASSWORD_FILE
@CODE
@click.pass_context
@refusals_as_messages
def reactivate(ctx: click.Context, target: str, username: str, password_file: Path | None,
               code: str | None) -> None:
    """Invite a deactivated user of your state back; prints the invitation code (they choose
    a new password when accepting)."""
    exchange = exchange_of(ctx)
    _issued(exchange.onboarding.reactivate(sign_in(exchange, username, password_file, code),
                                           target))


@click.group()
def account() -> None:
    """Your own account."""


@account.command("enrol-second-factor")
@user_option("user")
@PASSWORD_FILE
@click.pass_context
@refusals_as_messages
def enrol_second_factor(ctx: click.Context, username: str, password_file: Path | None) -> None:
    """Set up a second factor without a browser: add the secret to an authenticator app
    (the otpauth URI, or the QR code drawn here), then type the code it shows."""
    exchange = exchange_of(ctx)
    password = (click.prompt(f"Password for {username}", hide_input=True)
                if password_file is None else read_password(password_file, ""))
    unlocked = exchange.directory.unlock(username, password)
    secret = new_secret()
    uri = provisioning_uri(secret, unlocked.user.username)
    qr = io.StringIO()
    segno.make(uri, error="m").terminal(out=qr, compact=True)
    click.echo(qr.getvalue())
    click.echo(f"Secret: {spaced(secret)}\notpauth URI: {uri}")
    code = click.prompt("Code shown by your app")
    codes = exchange.directory.second_factors.enrol_at_sign_in(unlocked, secret, code)
    click.echo("Second factor set up. Recovery codes (each works once; shown only now):")
    for one in codes:
        click.echo(f"  {one}")


COMMANDS = (states, invitations, users, account)
