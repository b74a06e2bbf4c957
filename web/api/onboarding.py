"""API operations of onboarding and administration: the secretariat registers a state by
inviting its first admin; a state admin invites, lists and manages the users of their state
and rotates its keys; anyone holding an invitation code accepts it (no token: they have no
account yet; the code itself is the credential)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from flask import Blueprint

from cases.kernel.viewer import Viewer

from ..account import sign_ins
from ..extensions import get_exchange
from .exchange_schemas import StateOut
from .onboarding_schemas import (
    AcceptanceIn,
    AcceptedOut,
    AdminInvitationIn,
    InvitationIn,
    InvitationIssuedOut,
    InvitationOut,
    InvitationPage,
    KeysRotatedOut,
    RolesIn,
    StateRegistrationIn,
    StateStatusIn,
    UserOut,
    UserPage,
)
from .schemas import PageQuery
from .spec import operation


def _issued(issued: object) -> InvitationIssuedOut:
    onboarding = get_exchange().onboarding
    invitation = issued.invitation  # type: ignore[attr-defined]
    return InvitationIssuedOut(invitation=InvitationOut.of(invitation,
                                                           onboarding.is_open(invitation)),
                               code=issued.code)  # type: ignore[attr-defined]


bp = Blueprint("onboarding", __name__)


@operation(bp, "POST", "/directory/states", summary="Register a state by inviting its "
           "first state admin (secretariat); its keys are made when the admin accepts",
           tag="onboarding", body=StateRegistrationIn, response=InvitationIssuedOut,
           status=201, errors=(403, 409))
def register_state(viewer: Viewer, body: StateRegistrationIn) -> InvitationIssuedOut:
    return _issued(get_exchange().onboarding.register_state(
        viewer, body.code, body.status, body.admin_username, body.admin_display_name))


@operation(bp, "PUT", "/directory/states/<code>/status", summary="Change a state's "
           "status: a signatory that ratifies becomes a State Party, and receives portal "
           "shares from then on (secretariat)", tag="onboarding", body=StateStatusIn,
           response=StateOut, errors=(403, 404, 409))
def change_state_status(viewer: Viewer, code: str, body: StateStatusIn) -> StateOut:
    return StateOut.of(get_exchange().onboarding.change_state_status(
        viewer, code, body.status), datetime.now(UTC))


@operation(bp, "POST", "/directory/states/<code>/suspension", summary="Suspend a "
           "state's access: its users cannot sign in, nothing is deleted (secretariat)",
           tag="onboarding", response=StateOut, errors=(403, 404, 409, 422))
def suspend_state(viewer: Viewer, code: str) -> StateOut:
    return StateOut.of(get_exchange().onboarding.suspend_state(viewer, code),
                       datetime.now(UTC))


@operation(bp, "DELETE", "/directory/states/<code>/suspension", summary="Restore a "
           "suspended state's access (secretariat)", tag="onboarding", response=StateOut,
           errors=(403, 404, 409, 422))
def reinstate_state(viewer: Viewer, code: str) -> StateOut:
    return StateOut.of(get_exchange().onboarding.reinstate_state(viewer, code),
                       datetime.now(UTC))


@operation(bp, "POST", "/directory/states/<code>/admin-invitation", summary="Invite a "
           "new state admin for a state that lost its admins (secretariat); accepting "
           "needs the state's recovery secret", tag="onboarding", body=AdminInvitationIn,
           response=InvitationIssuedOut, status=201, errors=(403, 404, 409))
def reinvite_state_admin(viewer: Viewer, code: str,
                         body: AdminInvitationIn) -> InvitationIssuedOut:
    return _issued(get_exchange().onboarding.reinvite_state_admin(
        viewer, code, body.username, body.display_name))


@operation(bp, "GET", "/invitations", summary="The invitations you manage, newest first "
           "(state admin: your state's users; secretariat: states' first admins too)",
           tag="onboarding", query=PageQuery, response=InvitationPage, errors=(403,))
def list_invitations(viewer: Viewer, query: PageQuery) -> InvitationPage:
    onboarding = get_exchange().onboarding
    found = onboarding.invitations(viewer)
    return InvitationPage(page=query.page, per_page=query.per_page, total=len(found),
                          items=[InvitationOut.of(i, onboarding.is_open(i))
                                 for i in query.window(found)])


@operation(bp, "POST", "/invitations", summary="Invite a user of your state (state "
           "admin); the state keyring travels sealed to the code", tag="onboarding",
           body=InvitationIn, response=InvitationIssuedOut, status=201,
           errors=(403, 409))
def invite_user(viewer: Viewer, body: InvitationIn) -> InvitationIssuedOut:
    return _issued(get_exchange().onboarding.invite_user(
        viewer, body.username, list(body.roles), body.display_name))


@operation(bp, "DELETE", "/invitations/<uuid:invitation_id>", summary="Revoke a pending "
           "invitation: its code stops working", tag="onboarding", status=204,
           errors=(403, 404, 409))
def revoke_invitation(viewer: Viewer, invitation_id: UUID) -> None:
    get_exchange().onboarding.revoke(viewer, invitation_id)


@operation(bp, "POST", "/invitations/acceptance", summary="Accept an invitation with its "
           "code and choose your password (no token needed)", tag="onboarding",
           body=AcceptanceIn, response=AcceptedOut, status=201,
           errors=(401, 404, 409, 429), public=True)
def accept_invitation(viewer: None, body: AcceptanceIn) -> AcceptedOut:
    welcome = get_exchange().onboarding.accept(body.code, body.username, body.password,
                                               body.display_name, body.recovery_secret)
    user = welcome.unlocked.user
    return AcceptedOut(username=user.username, state=user.state, roles=user.roles,
                       second_factor_required=user.needs_second_factor,
                       recovery_secret=welcome.recovery_secret)


@operation(bp, "GET", "/directory/users", summary="The users of your state, deactivated "
           "ones too (state admin)", tag="onboarding", query=PageQuery,
           response=UserPage, errors=(403,))
def list_users(viewer: Viewer, query: PageQuery) -> UserPage:
    every = get_exchange().onboarding.users(viewer)
    found = query.window(every)
    last = sign_ins().last([str(u.id) for u in found])
    return UserPage(page=query.page, per_page=query.per_page, total=len(every),
                    items=[UserOut.of(u, last.get(str(u.id), (None,))[0]) for u in found])


@operation(bp, "PUT", "/directory/users/<username>/roles", summary="Give a user of your "
           "state exactly these roles (state admin)", tag="onboarding", body=RolesIn,
           response=UserOut, errors=(403, 404, 409))
def change_roles(viewer: Viewer, username: str, body: RolesIn) -> UserOut:
    return UserOut.of(get_exchange().onboarding.change_roles(viewer, username,
                                                             list(body.roles)))


@operation(bp, "POST", "/directory/users/<username>/deactivation", summary="Deactivate a "
           "user of your state: no more sign-in, tokens revoked, nothing deleted (state "
           "admin)", tag="onboarding", response=UserOut, errors=(403, 404, 409))
def deactivate_user(viewer: Viewer, username: str) -> UserOut:
    exchange = get_exchange()
    exchange.onboarding.deactivate(viewer, username)
    return UserOut.of(exchange.directory.user(username))


@operation(bp, "POST", "/directory/users/<username>/reactivation", summary="Invite a "
           "deactivated user of your state back; they choose a new password when "
           "accepting (state admin)", tag="onboarding", response=InvitationIssuedOut,
           status=201, errors=(403, 404, 409))
def reactivate_user(viewer: Viewer, username: str) -> InvitationIssuedOut:
    return _issued(get_exchange().onboarding.reactivate(viewer, username))


@operation(bp, "POST", "/directory/keys/rotation", summary="Rotate your state's keys "
           "(state admin): a new version; older ones still open what they opened",
           tag="onboarding", response=KeysRotatedOut, errors=(403,))
def rotate_keys(viewer: Viewer) -> KeysRotatedOut:
    rotated = get_exchange().onboarding.rotate_keys(viewer)
    return KeysRotatedOut(state=rotated.state, key_version=rotated.keyring.current.version)
