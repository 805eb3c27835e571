"""The interactive API docs at /docs, served with their assets from this server.

Swagger UI's files come from the `fastapi-offline` package (they are not ours to keep in the
tree), so a server without internet still shows its docs. The page has no inline script, so
its Content-Security-Policy allows scripts from this server alone.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from imagechat.web.headers import page_policy

ASSETS = Path(fastapi_offline.__file__).with_name("static")

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imagechat API</title>
<link rel="icon" href="/docs/assets/favicon.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

# validatorUrl: null, or Swagger UI would send the document to an outside validator.
_INIT = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""

DOCS_POLICY = page_policy()


def install(app: FastAPI) -> None:
    """Serve /docs, /docs/init.js and /docs/assets/*; the app must be made with docs_url=None."""
    app.mount("/docs/assets", StaticFiles(directory=ASSETS, check_dir=False), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return HTMLResponse(_PAGE, headers={"Content-Security-Policy": DOCS_POLICY})

    @app.get("/docs/init.js", include_in_schema=False)
    async def init() -> Response:
        return Response(_INIT, media_type="text/javascript")
