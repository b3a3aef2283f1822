"""The supergraph: composition, query planning, execution and the gateway app.

Entry points (imported from their modules, so `import graph` stays light):

- `graph.compose.compose_supergraph(subgraphs)` / `client_schema_sdl(supergraph_sdl)`
- `graph.supergraph.read_supergraph(sdl)`: any standard supergraph SDL
- `graph.in_process.router_for_subgraphs(subgraphs, stores)`: `nexus serve`, no HTTP hop
- `graph.http_router.http_router_from_file(path)`: `nexus router --supergraph FILE`
- `graph.gateway.create_app(router)`: `/graphql`, GraphiQL, `/healthz`, `/readyz`
"""
