"""A fake of the notifications service's feed and preference methods that checks every call
against services/notifications/README.md and shared/contracts/notifications.py, and answers
with contract-valid data."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gateway.rpc import wire_kwargs
from shared.contracts import notifications as contract
from tests.gateway.fakes import Call
from tests.support.readme_rpc import check_call, rpc_signatures

NOW = datetime(2026, 11, 2, 15, 30, tzinfo=UTC)
SIGNATURES = rpc_signatures("notifications")


def notification(read: bool = False) -> dict[str, Any]:
    referral = uuid.uuid4()
    return contract.NotificationOut(
        id=uuid.uuid4(),
        kind="referral_received",
        title="Referral R-7K3F9Q received from Bright Smiles",
        subject_type="referral",
        subject_id=referral,
        reference="R-7K3F9Q",
        link=f"https://bridgework.example.com/referrals/{referral}",
        created_at=NOW,
        read=read,
        read_at=NOW if read else None,
    ).model_dump(mode="json")


def default_answers() -> dict[str, Callable[[], Any]]:
    return {
        "list_notifications": lambda: contract.NotificationPage.model_validate(
            {
                "items": [notification(), notification(read=True)],
                "total": 2,
                "page": 1,
                "page_size": 25,
                "unread_count": 1,
            }
        ).model_dump(mode="json"),
        "mark_read": lambda: notification(read=True),
        "mark_all_read": lambda: {"marked": 3, "unread_count": 0},
        "get_preferences": lambda: contract.Preferences().model_dump(mode="json"),
        "update_preferences": lambda: contract.Preferences(files=False).model_dump(mode="json"),
    }


class FakeNotifications:
    """Stands in for gateway.rpc.Services. Every call must use exactly the keyword arguments
    the notifications README gives the method, with payloads valid against the contract."""

    def __init__(self, answers: dict[str, Callable[[], Any]]) -> None:
        self.answers = answers
        self.calls: list[Call] = []
        self.errors: dict[str, Exception] = {}  # method -> error to raise instead
        self.names = ("notifications",)

    async def call(
        self, service: str, method: str, *, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        kwargs = wire_kwargs(kwargs)
        assert service == "notifications", service
        check_call(service, method, kwargs, contract)
        self.calls.append(Call(service, method, kwargs))
        if method in self.errors:
            raise self.errors[method]
        return self.answers[method]()

    def last(self, method: str | None = None) -> Call:
        calls = [c for c in self.calls if method is None or c.method == method]
        assert calls, f"no call to {method}"
        return calls[-1]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]
