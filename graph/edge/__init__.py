"""The router's edge: identity, access directives, demand control, CORS and CSRF."""
