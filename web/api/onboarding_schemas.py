"""The JSON shapes of onboarding and administration: states registered by invitation,
invitations (their code appears once, in the answer that issues it), users and roles."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from cases.identity.directory import User
from cases.identity.invitations import PENDING, Invitation

from .schemas import Strict, Timestamp

Role = Literal["analyst", "reviewer", "auditor", "state_admin", "secretariat"]


class StateRegistrationIn(Strict):
    code: str = Field(description="ISO 3166-1 alpha-3 code, e.g. FRA")
    status: Literal["state_party", "signatory"]
    admin_username: str = Field(description="User name of the state's first state admin")
    admin_display_name: str = ""


class InvitationIn(Strict):
    username: str
    roles: list[Role] = Field(min_length=1)
    display_name: str = ""


class AcceptanceIn(Strict):
    code: str = Field(description="The invitation code, dvi_<id>.<secret>")
    username: str = Field(description="The user name given with the code")
    password: str = Field(description="The password you choose (at least 12 characters)")
    display_name: str = ""
    recovery_secret: str = Field("", description="Only for a state admin invited by the "
                                 "secretariat for a state that lost its admins")


class AdminInvitationIn(Strict):
    username: str
    display_name: str = ""


class StateStatusIn(Strict):
    status: Literal["state_party", "signatory"]


class RolesIn(Strict):
    roles: list[Role] = Field(min_length=1)


class InvitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    state: str
    kind: Literal["first_admin", "user", "reactivate", "readmit_admin"]
    username: str
    display_name: str
    roles: list[str]
    state_status: str = Field(description="The status a registered state will have; "
                              "empty for a user of an existing state")
    status: Literal["pending", "accepted", "revoked", "expired"]
    created_on: Timestamp
    expires_at: Timestamp

    @classmethod
    def of(cls, invitation: Invitation, is_open: bool) -> InvitationOut:
        out = cls.model_validate(invitation)
        if invitation.status == PENDING and not is_open:
            out.status = "expired"
        return out


class InvitationIssuedOut(BaseModel):
    invitation: InvitationOut
    code: str = Field(description="Shown only in this answer and stored nowhere: send it "
                      "to the invitee out of band")


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    page: int
    per_page: int
    total: int


class AcceptedOut(BaseModel):
    username: str
    state: str
    roles: list[str]
    second_factor_required: bool = Field(description="Sign in on the web (or `divex account "
                                         "enrol-second-factor`) to set it up before any "
                                         "other use")
    recovery_secret: str | None = Field(description="For a state's first admin: the state's "
                                        "recovery secret, shown only in this answer")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    display_name: str
    state: str
    roles: list[str]
    active: bool
    second_factor: bool
    last_sign_in: Timestamp | None = Field(None, description="Last sign-in on the web, UTC")

    @classmethod
    def of(cls, user: User, last_sign_in: datetime | None = None) -> UserOut:
        out = cls.model_validate(user)
        out.last_sign_in = last_sign_in
        return out


class UserPage(BaseModel):
    items: list[UserOut]
    page: int
    per_page: int
    total: int


class KeysRotatedOut(BaseModel):
    state: str
    key_version: int
