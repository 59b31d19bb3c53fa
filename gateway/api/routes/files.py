"""Files attached to referrals and lab cases: X-rays, CBCT (DICOM), intraoral scans (STL), PDFs.

The files service (services/files/README.md) decides everything: who may see or add a
file, whether its content is what it claims, previews. The gateway asks it by RPC for a
single-use ticket and streams the bytes to or from its transfer port
(gateway/streaming.py), never holding a whole file in memory.

Only the two offices of the referral (the client and the lab of a case) see its files: for
anyone else every file id is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import httpx
from fastapi import APIRouter, Depends, Query, Request, Response, status

from gateway import streaming
from gateway.api.deps import ServicesDep, SettingsDep
from gateway.api.responses import SIGNED_IN, ErrorBody, errors
from gateway.auth.deps import CallerDep
from shared.contracts.files import AccessEntry, FileList, FileOut, OwnerType, Ticket
from shared.errors import Unavailable

router = APIRouter(prefix="/api/v1", tags=["files"])

_NOT_FOUND = "No such file or referral, or the caller's office is not one of its two offices"
_FORMATS = (
    "Accepted, by content (the name's extension, when present, must agree): PDF; BMP, GIF, "
    "JPEG, PNG; TIFF; DICOM; STL (binary or ASCII)."
)


async def get_upstream(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient | None = getattr(request.app.state, "upstream", None)
    if client is None:
        raise Unavailable("file transfers are not available yet")
    return client


UpstreamDep = Annotated[httpx.AsyncClient, Depends(get_upstream)]

_MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/referrals/{referral_id}/files",
    status_code=status.HTTP_201_CREATED,
    response_model=FileOut,
    summary="Attach a file to a referral (multipart, one part named `file`)",
    description=(
        "Either office of an active referral may attach files: at most `MAX_UPLOAD_BYTES` "
        "(50 MB by default) each and 10 per referral. The file streams through to the files "
        "service as it arrives; a file over the limit is refused with 413 the moment the "
        "limit is crossed, the 11th file with 409, a file whose content is not what it "
        "claims with 422 naming the file and the reason. " + _FORMATS
    ),
    responses={
        **errors(
            *SIGNED_IN,
            404,
            409,
            s404=_NOT_FOUND,
            s409="The referral already has the most files allowed, or is closed",
        ),
        413: {"model": ErrorBody, "description": "The file is larger than the limit it names"},
    },
    openapi_extra=_MULTIPART,
)
async def upload_file(
    referral_id: UUID,
    request: Request,
    caller: CallerDep,
    services: ServicesDep,
    settings: SettingsDep,
    upstream: UpstreamDep,
) -> Response:
    return await _upload(
        request, caller, services, settings, upstream, OwnerType.referral, referral_id
    )


async def _upload(
    request: Request,
    caller: Any,
    services: Any,
    settings: Any,
    upstream: httpx.AsyncClient,
    owner_type: OwnerType,
    owner_id: UUID,
) -> Response:
    """Ask the files service for a ticket to the owner, then stream the body to it."""

    async def begin(filename: str | None, declared_size: int | None) -> str:
        answer = await services.call(
            "files",
            "begin_upload",
            caller=caller,
            payload={
                "owner_type": owner_type.value,
                "owner_id": str(owner_id),
                "filename": filename[:1000] if filename else None,
                "declared_size": declared_size,
            },
        )
        ticket = Ticket.model_validate(answer)
        if not ticket.upload_url:
            raise Unavailable("the files service gave no upload address")
        return ticket.upload_url

    return await streaming.forward_upload(
        request, upstream, limit=settings.max_upload_bytes, begin=begin
    )


@router.get(
    "/referrals/{referral_id}/files",
    response_model=FileList,
    summary="The referral's files: sent by us, and sent by them (newest first)",
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
)
async def list_files(referral_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "files",
        "list_files",
        caller=caller,
        owner_type=OwnerType.referral.value,
        owner_id=str(referral_id),
    )


_CASE_NOT_FOUND = "No such case, or the caller's office is neither its client nor its lab"


@router.post(
    "/cases/{case_id}/files",
    status_code=status.HTTP_201_CREATED,
    response_model=FileOut,
    summary="Attach a file to a lab case: CBCT, model scans (multipart, one part named `file`)",
    description=(
        "Either office of a case may attach files until it is shipped or cancelled, at most "
        "`MAX_UPLOAD_BYTES` (50 MB by default) each. The first file of a case in Missing "
        "CBCT/Models moves it to Processing. The file streams through to the files service "
        "as it arrives; a file over the limit is refused with 413 the moment the limit is "
        "crossed, a file whose content is not what it claims with 422 naming the file and "
        "the reason. " + _FORMATS
    ),
    responses={
        **errors(
            *SIGNED_IN,
            404,
            409,
            s404=_CASE_NOT_FOUND,
            s409="The case takes no more files (shipped or cancelled, or the most allowed)",
        ),
        413: {"model": ErrorBody, "description": "The file is larger than the limit it names"},
    },
    openapi_extra=_MULTIPART,
)
async def upload_case_file(
    case_id: UUID,
    request: Request,
    caller: CallerDep,
    services: ServicesDep,
    settings: SettingsDep,
    upstream: UpstreamDep,
) -> Response:
    return await _upload(request, caller, services, settings, upstream, OwnerType.case, case_id)


@router.get(
    "/cases/{case_id}/files",
    response_model=FileList,
    summary="The case's files: sent by us, and sent by them (newest first)",
    responses=errors(*SIGNED_IN, 404, s404=_CASE_NOT_FOUND),
)
async def list_case_files(case_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call(
        "files",
        "list_files",
        caller=caller,
        owner_type=OwnerType.case.value,
        owner_id=str(case_id),
    )


@router.get(
    "/files/{file_id}",
    response_model=FileOut,
    summary="A file's metadata (kind, size, SHA-256, preview state, DICOM tags...)",
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
)
async def get_file(file_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("files", "get_file", caller=caller, file_id=str(file_id))


@router.get(
    "/files/{file_id}/access",
    response_model=list[AccessEntry],
    summary="Who opened the file (downloads and previews), for both offices",
    responses=errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
)
async def list_access(file_id: UUID, caller: CallerDep, services: ServicesDep) -> Any:
    return await services.call("files", "list_access", caller=caller, file_id=str(file_id))


_STREAMED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The bytes, with Content-Type, Content-Length, ETag (the SHA-256) and "
        "Content-Disposition",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
}


@router.get(
    "/files/{file_id}/download",
    summary="Download the file (recorded in its access log)",
    description=(
        "Streams the file with `Content-Disposition: attachment` (or `inline` on request), "
        "its type, length and ETag, and `X-Content-Type-Options: nosniff`. Where the files "
        "are kept in an object store the answer may be a 307 redirect to a short-lived URL."
    ),
    response_class=Response,
    responses={
        **_STREAMED,
        307: {"description": "Fetch the file from the Location (a short-lived URL)"},
        **errors(*SIGNED_IN, 404, s404=_NOT_FOUND),
    },
)
async def download_file(
    file_id: UUID,
    caller: CallerDep,
    services: ServicesDep,
    settings: SettingsDep,
    upstream: UpstreamDep,
    disposition: Annotated[
        Literal["attachment", "inline"], Query(description="how a browser should show it")
    ] = "attachment",
) -> Response:
    answer = await services.call(
        "files", "begin_download", caller=caller, file_id=str(file_id), disposition=disposition
    )
    return await _stream(answer, upstream, settings.files_origin)


@router.get(
    "/files/{file_id}/preview",
    summary="The file's preview image (inline; recorded in its access log)",
    response_class=Response,
    responses={
        **_STREAMED,
        **errors(
            *SIGNED_IN,
            404,
            409,
            s404=_NOT_FOUND + ", or no preview can be made of it",
            s409="The preview is still being made; try again shortly",
        ),
    },
)
async def preview_file(
    file_id: UUID,
    caller: CallerDep,
    services: ServicesDep,
    settings: SettingsDep,
    upstream: UpstreamDep,
) -> Response:
    answer = await services.call("files", "begin_preview", caller=caller, file_id=str(file_id))
    return await _stream(answer, upstream, settings.files_origin)


async def _stream(answer: Any, upstream: httpx.AsyncClient, files_origin: str) -> Response:
    ticket = Ticket.model_validate(answer)
    if not ticket.download_url:
        raise Unavailable("the files service gave no download address")
    return await streaming.relay_download(upstream, ticket.download_url, files_origin=files_origin)
