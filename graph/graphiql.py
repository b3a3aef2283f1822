"""The GraphiQL page served on GET /graphql to browsers, with its vendored assets."""

from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql-assets"
ASSET_NAMES = (
    "graphiql.min.css",  # graphiql 3.9.0
    "react.production.min.js",  # react 18.3.1
    "react-dom.production.min.js",
    "graphiql.min.js",
)


def asset_urls() -> dict[str, str]:
    """Where the page loads each asset: always our vendored copy (no CDN, so it works offline)."""
    return {name: f"{ASSETS_PATH}/{name}" for name in ASSET_NAMES}


def graphiql_html(local_assets: bool) -> str:
    if not local_assets:
        return (
            "<!doctype html><title>Nexus-Alpha GraphiQL</title><p>GraphiQL's files are missing "
            "from this installation (graph/static/graphiql); reinstall the package. The GraphQL "
            "endpoint itself works: POST queries here.</p>"
        )
    urls = asset_urls()
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Nexus-Alpha GraphiQL</title>
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="{urls["graphiql.min.css"]}" />
</head>
<body>
  <div id="graphiql">Loading GraphiQL...</div>
  <script src="{urls["react.production.min.js"]}"></script>
  <script src="{urls["react-dom.production.min.js"]}"></script>
  <script src="{urls["graphiql.min.js"]}"></script>
  <script>
    const params = new URLSearchParams(window.location.search);
    const url = window.location.pathname;
    const httpFetcher = GraphiQL.createFetcher({{ url }});
    // Subscriptions stream over GraphQL-over-SSE from the same endpoint.
    function isSubscription({{ query, operationName }}) {{
      const text = (query || "").replace(/#[^\\n]*/g, "");
      const named = new RegExp("subscription\\\\s+" + operationName + "\\\\b");
      if (operationName) return named.test(text);
      return /(^|}})\\s*subscription\\b/.test(text);
    }}
    // The headers pane (an API key, a bearer token) goes with subscriptions too.
    async function* streamed(body, headers) {{
      const response = await fetch(url, {{
        method: "POST",
        headers: {{
          ...(headers || {{}}),
          "content-type": "application/json",
          accept: "text/event-stream",
        }},
        body: JSON.stringify(body),
      }});
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      try {{
        for (;;) {{
          const {{ value, done }} = await reader.read();
          if (done) return;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\\n\\n")) >= 0) {{
            const chunk = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = (/^event: (.*)$/m.exec(chunk) || [])[1];
            const data = (/^data: (.*)$/m.exec(chunk) || [])[1];
            if (event === "complete") return;
            if (event === "next" && data) yield JSON.parse(data);
          }}
        }}
      }} finally {{
        reader.cancel();
      }}
    }}
    const fetcher = (body, options) =>
      isSubscription(body) ? streamed(body, options?.headers) : httpFetcher(body, options);
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{
        fetcher,
        defaultQuery: params.get("query") || "{{ __typename }}",
        defaultEditorToolsVisibility: true,
      }})
    );
  </script>
</body>
</html>
"""
