"""The Swagger UI page at `/api/docs`, from vendored assets (works offline)."""

from __future__ import annotations

import html
from pathlib import Path

ASSETS_DIR = Path(__file__).parent.parent / "static" / "swagger-ui"
ASSETS_PATH = "/api/docs/assets"
DOCS_PATH = "/api/docs"


def docs_html(openapi_url: str) -> str:
    """Swagger UI reading `openapi_url`; requests made from the page send the key entered
    under "Authorize" (X-API-Key or Bearer)."""
    url = html.escape(openapi_url, quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Nexus-Alpha REST API</title>
  <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{ url: "{url}", dom_id: "#swagger-ui", deepLinking: true }});
  </script>
</body>
</html>
"""
