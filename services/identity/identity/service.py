"""The identity service's entrypoints: each validates, calls the domain and serialises.

Every argument is a keyword argument (see the README). ``caller`` is the
``shared.contracts.Caller`` the gateway took from a verified access token;
``access.resolve`` checks it against this service's own users and clients.
"""

from __future__ import annotations

from typing import Any

from identity import (
    __version__,
    acceptance,
    access,
    accounts,
    audit,
    clients,
    colleagues,
    invitations,
    links,
    offices,
    people,
    sessions,
)
from identity.dependencies import IdentitySettings, TokenSigningKey
from identity.schemas import (
    AuditQuery,
    DirectoryQuery,
    LogOut,
    OfficeIds,
    RevocationsQuery,
    UserIds,
)
from shared.contracts.events import EventEnvelope
from shared.contracts.identity import (
    AcceptInvitation,
    ApiClientIn,
    AuditEntry,
    ClientCredentials,
    InvitationIn,
    LogIn,
    OfficeUpdate,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    ProviderIn,
    ProviderUpdate,
    RefreshIn,
    ResendVerification,
    RoleChange,
    SignUp,
    StaffInvitationIn,
    TermsAcceptance,
    TokenIn,
)
from shared.contracts.referrals import ReferralSent
from shared.entrypoints import event_handler, rpc
from shared.service import ServiceBase
from shared.validation import client_address, dump, parse, parse_id

Json = Any


class IdentityService(ServiceBase):
    """Offices, their people and providers, sign-up and sign-in, invitations, API clients and the
    directory.
    """

    name = "identity"
    version = __version__

    settings = IdentitySettings()
    signing_key = TokenSigningKey()

    # ------------------------------------------------------------- without a caller

    @rpc
    def sign_up(self, payload: Json, client_ip: str | None = None) -> Json:
        """Register a new office and its admin; the admin verifies the e-mail next."""
        cmd = parse(SignUp, payload)
        ip = client_address(client_ip)
        return dump(accounts.sign_up(self.db, cmd=cmd, ip=ip, settings=self.settings))

    @rpc
    def verify_email(self, token: str, client_ip: str | None = None) -> Json:
        """Verify the address with the token of the e-mailed link."""
        cmd = parse(TokenIn, {"token": token})
        return dump(accounts.verify_email(self.db, token=cmd.token, ip=client_address(client_ip)))

    @rpc
    def resend_verification(self, payload: Json, client_ip: str | None = None) -> None:
        """Send a fresh verification link (by e-mail, or by an expired link's token)."""
        cmd = parse(ResendVerification, payload)
        accounts.resend_verification(self.db, cmd=cmd, settings=self.settings)

    @rpc
    def log_in(
        self, payload: Json, client_ip: str | None = None, user_agent: str | None = None
    ) -> Json:
        """Open a session with e-mail and password: an access and a refresh token."""
        cmd, ip = parse(LogIn, payload), client_address(client_ip)
        pair = sessions.log_in(
            self.db,
            cmd=cmd,
            ip=ip,
            user_agent=user_agent,
            settings=self.settings,
            key=self.signing_key,
        )
        return dump(pair)

    @rpc
    def refresh_session(self, refresh_token: str, client_ip: str | None = None) -> Json:
        """Rotate the refresh token and issue a new access token."""
        cmd = parse(RefreshIn, {"refresh_token": refresh_token})
        pair = sessions.refresh_session(
            self.db, refresh_token=cmd.refresh_token, settings=self.settings, key=self.signing_key
        )
        return dump(pair)

    @rpc
    def log_out(
        self,
        session_id: str | None = None,
        refresh_token: str | None = None,
        client_ip: str | None = None,
    ) -> None:
        """End the session named by its id or its refresh token."""
        cmd = parse(LogOut, {"session_id": session_id, "refresh_token": refresh_token})
        sessions.log_out(
            self.db,
            session_id=cmd.session_id,
            refresh_token=cmd.refresh_token,
            ip=client_address(client_ip),
        )

    @rpc
    def request_password_reset(self, payload: Json, client_ip: str | None = None) -> None:
        """E-mail a password reset link if the address has an account."""
        cmd, ip = parse(PasswordResetRequest, payload), client_address(client_ip)
        accounts.request_password_reset(self.db, cmd=cmd, ip=ip, settings=self.settings)

    @rpc
    def reset_password(self, payload: Json, client_ip: str | None = None) -> None:
        """Set a new password with a reset link's token; every session ends."""
        cmd = parse(PasswordResetConfirm, payload)
        accounts.reset_password(self.db, cmd=cmd, ip=client_address(client_ip))

    @rpc
    def issue_client_token(self, payload: Json, client_ip: str | None = None) -> Json:
        """An access token for an API client (OAuth2 client credentials)."""
        cmd, ip = parse(ClientCredentials, payload), client_address(client_ip)
        token = clients.issue_client_token(
            self.db, cmd=cmd, ip=ip, settings=self.settings, key=self.signing_key
        )
        return dump(token)

    @rpc
    def get_invitation(self, token: str) -> Json:
        """What an invitation link's landing page shows."""
        cmd = parse(TokenIn, {"token": token})
        return dump(acceptance.get_invitation(self.db, token=cmd.token))

    @rpc
    def accept_invitation(
        self, payload: Json, caller: Json = None, client_ip: str | None = None
    ) -> Json:
        """Accept an invitation: link the caller's office, or create the account."""
        cmd, actor = parse(AcceptInvitation, payload), access.resolve_optional(self.db, caller)
        accepted = acceptance.accept_invitation(
            self.db, cmd=cmd, actor=actor, ip=client_address(client_ip), settings=self.settings
        )
        return dump(accepted)

    # ------------------------------------------------------------- for the gateway and services

    @rpc
    def get_public_keys(self) -> Json:
        """The public keys (JWK set) that verify access tokens."""
        return {"keys": [self.signing_key.public_jwk]}

    @rpc
    def list_revocations(self, since: int = 0) -> Json:
        """Revoked sessions, users and clients after the cursor."""
        query = parse(RevocationsQuery, {"since": since})
        return dump(sessions.list_revocations(self.db, since=query.since, settings=self.settings))

    @rpc
    def issue_link(self, link_id: str) -> Json:
        """A fresh token and URL for the link of an event (the notifications service asks)."""
        link = parse_id(link_id, field="link_id")
        return dump(links.issue_link(self.db, link_id=link, settings=self.settings))

    @rpc
    def get_office_profiles(self, office_ids: list[str]) -> Json:
        """The profiles of these offices (those that exist)."""
        ids = parse(OfficeIds, {"office_ids": office_ids}).office_ids
        return dump(offices.profiles(self.db, office_ids=ids))

    @rpc
    def get_users(self, user_ids: list[str]) -> Json:
        """These users (those that exist)."""
        ids = parse(UserIds, {"user_ids": user_ids}).user_ids
        return dump(people.get_users(self.db, user_ids=ids))

    @rpc
    def list_office_members(self, office_id: str) -> Json:
        """The verified, active users of an office."""
        office = parse_id(office_id, field="office_id")
        return dump(people.list_office_members(self.db, office_id=office))

    # ------------------------------------------------------------- with a caller

    @rpc
    def get_me(self, caller: Json) -> Json:
        """Who the caller is, with their office."""
        actor = access.resolve(self.db, caller)
        return dump(people.get_me(self.db, actor=actor, settings=self.settings))

    @rpc
    def change_password(
        self,
        caller: Json,
        payload: Json,
        session_id: str | None = None,
        client_ip: str | None = None,
    ) -> None:
        """Replace the caller's password; every session of theirs ends."""
        actor, cmd = access.resolve(self.db, caller), parse(PasswordChange, payload)
        sid = parse_id(session_id, field="session_id") if session_id else None
        accounts.change_password(
            self.db, actor=actor, cmd=cmd, session_id=sid, ip=client_address(client_ip)
        )

    @rpc
    def get_office(self, caller: Json) -> Json:
        """The caller's office, with the state of its setup."""
        actor = access.resolve(self.db, caller)
        return dump(offices.get_office(self.db, actor=actor, settings=self.settings))

    @rpc
    def update_office(self, caller: Json, payload: Json) -> Json:
        """Change the office's information (admin)."""
        actor, cmd = access.resolve(self.db, caller), parse(OfficeUpdate, payload)
        return dump(offices.update_office(self.db, actor=actor, cmd=cmd, settings=self.settings))

    @rpc
    def accept_terms(self, caller: Json, payload: Json, client_ip: str | None = None) -> Json:
        """Accept the current Terms of Use for the office (admin)."""
        actor, cmd = access.resolve(self.db, caller), parse(TermsAcceptance, payload)
        office = offices.accept_terms(
            self.db, actor=actor, cmd=cmd, ip=client_address(client_ip), settings=self.settings
        )
        return dump(office)

    @rpc
    def list_providers(self, caller: Json) -> Json:
        """The office's providers."""
        return dump(offices.list_providers(self.db, actor=access.resolve(self.db, caller)))

    @rpc
    def get_provider(self, caller: Json, provider_id: str) -> Json:
        """One provider of the office."""
        actor, pid = access.resolve(self.db, caller), parse_id(provider_id, field="provider_id")
        return dump(offices.get_provider(self.db, actor=actor, provider_id=pid))

    @rpc
    def create_provider(
        self, caller: Json, payload: Json, idempotency_key: str | None = None
    ) -> Json:
        """Add a provider (admin)."""
        actor, cmd = access.resolve(self.db, caller), parse(ProviderIn, payload)
        provider = offices.create_provider(
            self.db, actor=actor, cmd=cmd, idempotency_key=idempotency_key
        )
        return dump(provider)

    @rpc
    def update_provider(self, caller: Json, provider_id: str, payload: Json) -> Json:
        """Change a provider (admin)."""
        actor, pid = access.resolve(self.db, caller), parse_id(provider_id, field="provider_id")
        cmd = parse(ProviderUpdate, payload)
        return dump(offices.update_provider(self.db, actor=actor, provider_id=pid, cmd=cmd))

    @rpc
    def delete_provider(self, caller: Json, provider_id: str) -> None:
        """Remove a provider (admin)."""
        actor, pid = access.resolve(self.db, caller), parse_id(provider_id, field="provider_id")
        offices.delete_provider(self.db, actor=actor, provider_id=pid)

    @rpc
    def list_users(self, caller: Json) -> Json:
        """The office's people."""
        return dump(people.list_users(self.db, actor=access.resolve(self.db, caller)))

    @rpc
    def get_user(self, caller: Json, user_id: str) -> Json:
        """One person of the office."""
        actor, uid = access.resolve(self.db, caller), parse_id(user_id, field="user_id")
        return dump(people.get_user(self.db, actor=actor, user_id=uid))

    @rpc
    def invite_staff(
        self,
        caller: Json,
        payload: Json,
        client_ip: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        """Invite a person to join the office (admin)."""
        actor, cmd = access.resolve(self.db, caller), parse(StaffInvitationIn, payload)
        invitation = invitations.invite_staff(
            self.db,
            actor=actor,
            cmd=cmd,
            ip=client_address(client_ip),
            idempotency_key=idempotency_key,
            settings=self.settings,
        )
        return dump(invitation)

    @rpc
    def change_role(
        self, caller: Json, user_id: str, payload: Json, client_ip: str | None = None
    ) -> Json:
        """Make a person admin or staff (admin); their sessions end."""
        actor, uid = access.resolve(self.db, caller), parse_id(user_id, field="user_id")
        cmd, ip = parse(RoleChange, payload), client_address(client_ip)
        return dump(people.change_role(self.db, actor=actor, user_id=uid, cmd=cmd, ip=ip))

    @rpc
    def remove_user(self, caller: Json, user_id: str, client_ip: str | None = None) -> None:
        """Take a person out of the office (admin); their sessions end."""
        actor, uid = access.resolve(self.db, caller), parse_id(user_id, field="user_id")
        people.remove_user(self.db, actor=actor, user_id=uid, ip=client_address(client_ip))

    @rpc
    def create_invitation(
        self,
        caller: Json,
        payload: Json,
        client_ip: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        """Invite another office to become colleagues (admin)."""
        actor, cmd = access.resolve(self.db, caller), parse(InvitationIn, payload)
        invitation = invitations.create_invitation(
            self.db,
            actor=actor,
            cmd=cmd,
            ip=client_address(client_ip),
            idempotency_key=idempotency_key,
            settings=self.settings,
        )
        return dump(invitation)

    @rpc
    def list_invitations(self, caller: Json) -> Json:
        """The invitations the office sent."""
        return dump(invitations.list_invitations(self.db, actor=access.resolve(self.db, caller)))

    @rpc
    def revoke_invitation(
        self, caller: Json, invitation_id: str, client_ip: str | None = None
    ) -> None:
        """Withdraw a pending invitation (admin)."""
        actor = access.resolve(self.db, caller)
        iid = parse_id(invitation_id, field="invitation_id")
        invitations.revoke_invitation(
            self.db, actor=actor, invitation_id=iid, ip=client_address(client_ip)
        )

    @rpc
    def list_colleagues(self, caller: Json) -> Json:
        """The office's colleagues, most recent first."""
        return dump(colleagues.list_colleagues(self.db, actor=access.resolve(self.db, caller)))

    @rpc
    def search_directory(
        self, caller: Json, q: str | None = None, kind: str | None = None, limit: int = 50
    ) -> Json:
        """Receiving offices matching ``q``; colleagues first."""
        actor = access.resolve(self.db, caller)
        query = parse(DirectoryQuery, {"q": q or "", "kind": kind, "limit": limit})
        found = colleagues.search_directory(
            self.db, actor=actor, q=query.q, kind=query.kind, limit=query.limit
        )
        return dump(found)

    @rpc
    def list_api_clients(self, caller: Json) -> Json:
        """The office's API clients (admin)."""
        return dump(clients.list_api_clients(self.db, actor=access.resolve(self.db, caller)))

    @rpc
    def get_api_client(self, caller: Json, api_client_id: str) -> Json:
        """One API client of the office (admin)."""
        actor = access.resolve(self.db, caller)
        cid = parse_id(api_client_id, field="api_client_id")
        return dump(clients.get_api_client(self.db, actor=actor, api_client_id=cid))

    @rpc
    def create_api_client(
        self,
        caller: Json,
        payload: Json,
        client_ip: str | None = None,
        idempotency_key: str | None = None,
    ) -> Json:
        """A new API client; its secret is in this answer only (admin)."""
        actor, cmd = access.resolve(self.db, caller), parse(ApiClientIn, payload)
        created = clients.create_api_client(
            self.db,
            actor=actor,
            cmd=cmd,
            ip=client_address(client_ip),
            idempotency_key=idempotency_key,
        )
        return dump(created)

    @rpc
    def update_api_client(self, caller: Json, api_client_id: str, payload: Json) -> Json:
        """Rename an API client (admin)."""
        actor, cmd = access.resolve(self.db, caller), parse(ApiClientIn, payload)
        cid = parse_id(api_client_id, field="api_client_id")
        return dump(clients.update_api_client(self.db, actor=actor, api_client_id=cid, cmd=cmd))

    @rpc
    def revoke_api_client(
        self, caller: Json, api_client_id: str, client_ip: str | None = None
    ) -> None:
        """Revoke an API client and void its tokens (admin)."""
        actor = access.resolve(self.db, caller)
        cid = parse_id(api_client_id, field="api_client_id")
        clients.revoke_api_client(
            self.db, actor=actor, api_client_id=cid, ip=client_address(client_ip)
        )

    @rpc
    def list_audit(self, caller: Json, limit: int = 50, before_id: int | None = None) -> Json:
        """The office's audit entries, newest first (admin)."""
        actor = access.resolve(self.db, caller)
        query = parse(AuditQuery, {"limit": limit, "before_id": before_id})
        entries = audit.list_audit(
            self.db, actor=actor, limit=query.limit, before_id=query.before_id
        )
        return dump([AuditEntry.model_validate(entry) for entry in entries])

    # ------------------------------------------------------------- events of other services

    @event_handler("referrals", ReferralSent)
    def handle_referral_sent(self, envelope: EventEnvelope, event: ReferralSent) -> None:
        """The two offices of a sent referral become colleagues (the sender "sent_work")."""
        colleagues.record_referral(
            self.db,
            sender_office_id=event.sender_office_id,
            receiver_office_id=event.receiver_office_id,
            at=envelope.occurred_at,
        )
