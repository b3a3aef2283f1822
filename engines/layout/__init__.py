"""Graph layout: force-directed (Fruchterman-Reingold) 2-D positions of weighted graphs."""

from engines.layout.force_directed import force_directed_layout

__all__ = ["force_directed_layout"]
