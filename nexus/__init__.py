"""Nexus-Alpha: the runtime shared by the subgraphs and the router (config, stores, CLI)."""
