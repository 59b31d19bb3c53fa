"""The signed-in user's in-app notifications (the web app's bell and "New" badges) and e-mail
preferences. Forwarded to the notifications service, which owns them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Query

from gateway.api.deps import ServicesDep
from gateway.api.responses import SIGNED_IN, errors
from gateway.api.schemas import example
from gateway.auth.deps import CallerDep
from shared.contracts.notifications import (
    FeedQuery,
    MarkedRead,
    NotificationOut,
    NotificationPage,
    Preferences,
    PreferencesIn,
)

router = APIRouter(prefix="/api/v1", tags=["notifications"])

PREFERENCES = example("Stop e-mails about new files", {"files": False})


@router.get(
    "/notifications",
    response_model=NotificationPage,
    summary="The caller's notifications, newest first, with the unread count",
    responses=errors(*SIGNED_IN),
)
async def list_notifications(
    query: Annotated[FeedQuery, Query()], caller: CallerDep, services: ServicesDep
) -> Any:
    return await services.call("notifications", "list_notifications", caller=caller, query=query)


@router.post(
    "/notifications/read-all",
    response_model=MarkedRead,
    summary="Mark every notification of the caller read",
    responses=errors(*SIGNED_IN),
)
async def mark_all_read(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("notifications", "mark_all_read", caller=caller)


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationOut,
    summary="Mark one notification read",
    responses=errors(*SIGNED_IN, 404),
)
async def mark_read(notification_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "notifications", "mark_read", caller=caller, notification_id=str(notification_id)
    )


@router.get(
    "/me/notification-preferences",
    response_model=Preferences,
    summary="Which e-mails the caller receives, per category",
    responses=errors(*SIGNED_IN),
)
async def get_preferences(caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("notifications", "get_preferences", caller=caller)


@router.put(
    "/me/notification-preferences",
    response_model=Preferences,
    summary="Turn categories of e-mail on or off",
    description="Omitted categories stay as they are. Security e-mails (verification, "
    "password reset, account locked, invitations) cannot be turned off: `security: false` "
    "is a 422 naming the field.",
    responses=errors(*SIGNED_IN),
)
async def update_preferences(
    payload: Annotated[PreferencesIn, Body(openapi_examples=PREFERENCES)],
    caller: CallerDep,
    services: ServicesDep,
) -> Any:
    return await services.call(
        "notifications", "update_preferences", caller=caller, payload=payload
    )
