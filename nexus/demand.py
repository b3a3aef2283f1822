"""The demand-control directives subgraphs put on their list fields (Federation 2.9 `@listSize`),
which the router reads to estimate an operation's cost before it runs."""

from __future__ import annotations

from strawberry.federation.schema_directives import ListSize

# Arguments left out are not printed (Hive and Apollo composition refuse explicit nulls there);
# strawberry's type stubs list every argument as required, hence the ignores.


def assumed_size(items: int) -> ListSize:
    """A list whose length no argument bounds: the router assumes `items` items."""
    return ListSize(assumed_size=items)  # type: ignore[call-arg]


def sliced_by(*arguments: str) -> ListSize:
    """A list at most as long as the largest of `arguments` (its default when not passed)."""
    return ListSize(  # type: ignore[call-arg]
        slicing_arguments=list(arguments), require_one_slicing_argument=False
    )


def sizes_children(*fields: str, slicing: str) -> ListSize:
    """An object (not a list) whose list fields `fields` each hold at most `slicing` items (an
    integer argument of this field; its default when not passed)."""
    return ListSize(  # type: ignore[call-arg]
        slicing_arguments=[slicing], sized_fields=list(fields), require_one_slicing_argument=False
    )


def sizes_fields(*fields: str, assumed: int) -> ListSize:
    """An object whose list fields `fields` hold about `assumed` items each (no argument says)."""
    return ListSize(assumed_size=assumed, sized_fields=list(fields))  # type: ignore[call-arg]
