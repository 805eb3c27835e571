"""GET /events: recovery over plain HTTP, the polling fallback where WebSockets are blocked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from imagechat.domain import limits, validation
from imagechat.domain.errors import Invalid
from imagechat.web.api.deps import ERRORS, CurrentTenant, Reader
from imagechat.web.responses import JSONBytes
from imagechat.web.services import services

router = APIRouter(tags=["events"], responses=ERRORS)


@router.get("/events", summary="Events after an offset, or recovered: false")
async def events_since(
    request: Request,
    tenant: CurrentTenant,
    _reader: Reader,
    urlId: Annotated[str, Query(max_length=limits.MAX_URL_ID * 4)],
    since: Annotated[int, Query()] = 0,
    epoch: Annotated[str | None, Query(max_length=limits.MAX_ID_PARAMETER)] = None,
) -> Response:
    if since < 0:
        raise Invalid("since must be 0 or more", "invalid_offset")
    history = await services(request).store.history(tenant, validation.url_id(urlId), epoch, since)
    if not history.recovered:
        return JSONBytes({"recovered": False, "epoch": history.epoch, "offset": history.offset})
    # The stored events are already JSON: splice them in rather than decode and re-encode.
    head = b'{"recovered":true,"epoch":%b,"offset":%d,"events":[' % (
        JSONBytes().render(history.epoch),
        history.offset,
    )
    return JSONBytes(head + b",".join(history.events) + b"]}")
