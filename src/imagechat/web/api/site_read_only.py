"""A site-wide read-only change, told to the widgets open on the site's images.

A moderator's lock is one image's `image-updated` event. The site's switch (the admin API's
`PATCH /settings`, the console's settings form) is that same event on every image that no
moderator locked, each one logged in its image's order like any other write: a widget that is
open learns it live, and one that recovers from an earlier offset learns it from the log,
with no reload and no new kind of message.
"""

from __future__ import annotations

import uuid

from starlette.requests import Request

from imagechat.domain.models import Tenant, User
from imagechat.storage import writes
from imagechat.web.api.deps import perform
from imagechat.web.services import services


async def announce(request: Request, tenant: Tenant, actor: User) -> None:
    """One `image-updated` per unlocked image of the site, each its own write."""
    for url_id in await services(request).store.unlocked_images(tenant):
        bid = str(uuid.uuid4())
        operation = writes.announce_site_read_only(actor, bid, url_id)
        await perform(request, tenant, actor, bid, "site_read_only", operation)
