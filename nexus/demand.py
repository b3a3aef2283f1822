"""The demand-control directives subgraphs put on their list fields (Federation 2.9 `@listSize`),
which the router reads to estimate an operation's cost before it runs."""

from __future__ import annotations

from strawberry.federation.schema_directives import ListSize


def assumed_size(items: int) -> ListSize:
    """A list whose length no argument bounds: the router assumes `items` items."""
    return ListSize(assumed_size=items, slicing_arguments=None, sized_fields=None)


def sliced_by(*arguments: str) -> ListSize:
    """A list at most as long as the largest of `arguments` (its default when not passed)."""
    return ListSize(
        assumed_size=None,
        slicing_arguments=list(arguments),
        sized_fields=None,
        require_one_slicing_argument=False,
    )
