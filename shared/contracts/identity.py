"""The identity service's contracts: RPC payloads and answers, and its events.

The gateway validates HTTP bodies against these models (they are also the
OpenAPI schema), the identity service validates them again, and every other
service reads offices and users through them. No password, token or secret
ever appears in an event.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.events import DomainEvent
from shared.teeth import Notation

# Access tokens: signed by the identity service, verified by the gateway with the public
# keys from ``identity.get_public_keys``. Only this algorithm is accepted.
TOKEN_ALGORITHM = "EdDSA"
TOKEN_ISSUER = "bridgework-identity"
TOKEN_AUDIENCE = "bridgework-api"

_EMAIL = Field(max_length=254, examples=["frontdesk@brightsmiles.example"])
_PASSWORD = Field(max_length=256, examples=["Molar-Crown-2026"])
_TOKEN = Field(min_length=16, max_length=200, examples=["Vq3b0f9mI0rQ2eF9l3F1xw8cNnq7Z3qz"])


class Strict(BaseModel):
    """Inputs: unknown fields are refused, so a typo is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    """Answers: built from the service's data, read by the gateway and other services."""

    model_config = ConfigDict(from_attributes=True)


class OfficeKind(StrEnum):
    general_practice = "general_practice"
    specialist = "specialist"
    lab = "lab"


class Role(StrEnum):
    admin = "admin"
    staff = "staff"
    # API clients act with the rights of a staff member of their office.
    client = "client"


# ----------------------------------------------------------------- sign-up and links


class SignUp(Strict):
    """The first step: the office's e-mail (the admin's login), main phone and a password."""

    email: str = _EMAIL
    phone: str = Field(max_length=40, examples=["+1 416 555 0134"])
    password: str = _PASSWORD


class SignUpResult(Out):
    office_id: UUID
    user_id: UUID
    email: str


class TokenIn(Strict):
    """A single-use token from an e-mailed link."""

    token: str = _TOKEN


class VerifyResult(Out):
    office_id: UUID
    user_id: UUID
    email: str


class ResendVerification(Strict):
    """Either the e-mail address, or the (expired) token of the link that was clicked."""

    email: str | None = Field(default=None, max_length=254)
    token: str | None = Field(default=None, min_length=16, max_length=200)


class PasswordResetRequest(Strict):
    email: str = _EMAIL


class PasswordResetConfirm(Strict):
    token: str = _TOKEN
    password: str = _PASSWORD


class PasswordChange(Strict):
    current_password: str = Field(max_length=256)
    new_password: str = _PASSWORD


class LinkPurpose(StrEnum):
    verify_email = "verify_email"
    reset_password = "reset_password"
    invitation = "invitation"


class IssuedLink(Out):
    """What the notifications service puts in an e-mail: the link and when it stops working."""

    purpose: LinkPurpose
    url: str
    email: str
    expires_at: datetime


# ----------------------------------------------------------------- sessions and tokens


class LogIn(Strict):
    email: str = _EMAIL
    password: str = Field(max_length=256, examples=["Molar-Crown-2026"])


class TokenPair(Out):
    """An access token (JWT) and the refresh token that renews it (rotated on every use)."""

    token_type: str = "Bearer"
    access_token: str
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str
    refresh_expires_in: int = Field(description="seconds until the session ends at the latest")
    csrf_token: str = Field(description="for browser sessions: send as X-CSRF-Token")
    session_id: UUID


class RefreshIn(Strict):
    refresh_token: str = _TOKEN


class ClientCredentials(Strict):
    client_id: str = Field(max_length=100)
    client_secret: str = Field(max_length=200)


class ClientToken(Out):
    """The OAuth2 client-credentials answer (RFC 6749, section 4.4.3)."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int


class Revocation(Out):
    """Tokens matching this entry and issued before ``revoked_before`` are no longer valid."""

    session_id: UUID | None = None
    user_id: UUID | None = None
    client_id: UUID | None = None
    revoked_before: datetime


class Revocations(Out):
    cursor: int
    entries: list[Revocation]


# ----------------------------------------------------------------- offices and people


class Address(Strict):
    street: str = Field(max_length=200, examples=["120 King St W, Suite 400"])
    city: str = Field(max_length=100, examples=["Toronto"])
    region: str = Field(max_length=100, examples=["ON"])
    postal_code: str = Field(max_length=20, examples=["M5H 1J9"])
    country: str = Field(min_length=2, max_length=2, examples=["CA"], description="ISO 3166-1")


class OfficeUpdate(Strict):
    """The one-time setup and later edits (office admin). Omitted fields stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Bright Smiles"])
    kind: OfficeKind | None = None
    specialty: str | None = Field(default=None, max_length=100, examples=["Oral surgery"])
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    address: Address | None = None
    time_zone: str | None = Field(default=None, max_length=64, examples=["America/Toronto"])
    notation: Notation | None = None
    accepts_referrals: bool | None = None
    requires_contact_method: bool | None = Field(
        default=None,
        description="referrals to this office must give the patient's preferred contact method",
    )


class ProviderIn(Strict):
    display_name: str = Field(min_length=1, max_length=120, examples=["Dr. Amara Okafor"])
    specialty: str | None = Field(default=None, max_length=100)


class ProviderUpdate(Strict):
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
    specialty: str | None = Field(default=None, max_length=100)


class ProviderOut(Out):
    id: UUID
    display_name: str
    specialty: str | None = None


class OfficeProfile(Out):
    """What travels with every referral and case an office sends, and what the directory shows."""

    id: UUID
    name: str | None
    kind: OfficeKind
    specialty: str | None = None
    email: str
    phone: str
    address: dict[str, Any] | None = None
    time_zone: str
    notation: Notation
    accepts_referrals: bool
    requires_contact_method: bool = False
    providers: list[ProviderOut] = []


class SetupState(Out):
    office_complete: bool
    terms_accepted: bool
    terms_version: str
    complete: bool


class OfficeOut(OfficeProfile):
    created_at: datetime
    setup: SetupState


class TermsAcceptance(Strict):
    version: str = Field(max_length=40, examples=["2026-11"])


class UserOut(Out):
    id: UUID
    office_id: UUID
    email: str
    name: str | None = None
    role: Role
    verified: bool
    created_at: datetime


class Me(Out):
    """Who the caller is: a user (with their office) or an API client of the office."""

    user: UserOut | None = None
    client_id: UUID | None = None
    role: Role
    office: OfficeOut


class RoleChange(Strict):
    role: Role


# ----------------------------------------------------------------- invitations and colleagues


class InvitationKind(StrEnum):
    colleague = "colleague"  # another office, to become colleagues
    staff = "staff"  # a person joining the inviting office


class InvitationIn(Strict):
    email: str = _EMAIL
    message: str | None = Field(default=None, max_length=1000)


class StaffInvitationIn(Strict):
    email: str = _EMAIL
    role: Role = Role.staff


class InvitationOut(Out):
    id: UUID
    kind: InvitationKind
    email: str
    from_office_id: UUID
    from_office_name: str | None
    role: Role | None = None
    status: str = Field(examples=["pending", "accepted", "expired", "revoked"])
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None


class InvitationPreview(Out):
    """What the invitation landing page shows to whoever holds the link."""

    kind: InvitationKind
    email: str
    from_office_name: str | None
    message: str | None = None
    account_exists: bool
    expires_at: datetime


class AcceptInvitation(Strict):
    """Accept with the link's token. A new account needs a password (and, for a new
    office, the main phone; a staff member, a name). A signed-in caller links their office."""

    token: str = _TOKEN
    name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    password: str | None = Field(default=None, max_length=256)


class AcceptedInvitation(Out):
    invitation_id: UUID
    kind: InvitationKind
    office_id: UUID
    user_id: UUID | None
    colleague_office_id: UUID | None = None
    created_account: bool


class Colleague(Out):
    office: OfficeProfile
    relation: str = Field(examples=["invited", "invited_by", "sent_work"])
    last_interaction_at: datetime


class DirectoryEntry(Out):
    office: OfficeProfile
    colleague: bool


# ----------------------------------------------------------------- API clients and audit


class ApiClientIn(Strict):
    name: str = Field(min_length=1, max_length=120, examples=["Practice management sync"])


class ApiClientOut(Out):
    id: UUID
    client_id: str
    name: str
    created_at: datetime
    created_by: UUID | None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class ApiClientCreated(ApiClientOut):
    """The only answer that carries the secret: it is stored hashed and never shown again."""

    client_secret: str | None = Field(
        description="shown once; null when a retry with the same Idempotency-Key replays"
    )


class AuditEntry(Out):
    id: int
    at: datetime
    office_id: UUID | None
    user_id: UUID | None
    client_id: UUID | None
    action: str
    outcome: str
    ip: str | None
    details: dict[str, Any] | None = None


# ----------------------------------------------------------------- events


class OfficeRegistered(DomainEvent):
    """A new office signed up; its admin must verify the e-mail (``issue_link(link_id)``)."""

    event_type = "office_registered"

    office_id: UUID
    user_id: UUID
    email: str
    link_id: UUID


class VerificationResent(DomainEvent):
    """The person asked for a fresh verification link."""

    event_type = "verification_resent"

    office_id: UUID
    user_id: UUID
    email: str
    link_id: UUID


class UserVerified(DomainEvent):
    event_type = "user_verified"

    office_id: UUID
    user_id: UUID


class InvitationSent(DomainEvent):
    event_type = "invitation_sent"

    invitation_id: UUID
    kind: InvitationKind
    from_office_id: UUID
    from_office_name: str | None
    invited_by: UUID | None
    email: str
    link_id: UUID


class InvitationAccepted(DomainEvent):
    event_type = "invitation_accepted"

    invitation_id: UUID
    kind: InvitationKind
    from_office_id: UUID
    office_id: UUID
    user_id: UUID | None


class PasswordResetRequested(DomainEvent):
    event_type = "password_reset_requested"

    office_id: UUID
    user_id: UUID
    email: str
    link_id: UUID


class AccountLocked(DomainEvent):
    event_type = "account_locked"

    office_id: UUID
    user_id: UUID
    email: str
    locked_until: datetime
