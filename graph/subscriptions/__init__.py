"""Subscriptions through the router: subgraph streams, shared execution, client protocols.

- `streams`: how the router subscribes to the subgraph that owns the root field (in-process:
  the Strawberry schema's own `subscribe`; remote: graphql-transport-ws over WebSocket).
- `hub`: one upstream stream per distinct subscription (same document, variables and caller),
  the per-event fetches of other subgraphs run once per event, the result encoded once and
  handed to every client of that subscription.
- `outbox`: a client's bounded queue of outgoing messages and the slow-client policy.
- `transport_ws`, `legacy_ws`, `sse`: the client edge (graphql-transport-ws, the legacy
  graphql-ws protocol of subscriptions-transport-ws, GraphQL over Server-Sent Events).
"""
