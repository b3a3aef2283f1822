"""@context / @fromContext beyond one field on the direct parent (issue 16 item 10): a context
set on union members with one type condition each, a nested selection passed as an input
object, the nearest of several ancestors setting the context, lists between them, and a
contextual argument beside a client's argument. What the router cannot fill is refused at
composition, naming the field."""

from textwrap import dedent
from typing import Annotated

import pytest
import strawberry
from strawberry.federation.schema_directives import Context, FromContext

from graph.compose import CompositionError, SubgraphSDL, compose_supergraph
from graph.in_process import compose_schemas
from graph.supergraph import read_supergraph
from tests.graph.support import router_over

MEDIA_SOURCE = "$media ... on Book { title } ... on Film { name }"


@strawberry.federation.type(keys=["id"])
class Copy:
    id: strawberry.ID

    @strawberry.field(description="Shelf label of the copy.")
    def label(
        self,
        upper: bool = False,
        source: Annotated[
            str | None, strawberry.argument(directives=[FromContext(field=MEDIA_SOURCE)])
        ] = None,
    ) -> str:
        text = f"{source} #{self.id}"
        return text.upper() if upper else text

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Copy":
        return Copy(id=id)


@strawberry.federation.type(keys=["id"], directives=[Context(name="media")])
class Book:
    id: strawberry.ID
    title: str
    copies: list[Copy]


@strawberry.federation.type(keys=["id"], directives=[Context(name="media")])
class Film:
    id: strawberry.ID
    name: str
    copies: list[Copy]


Media = Annotated[Book | Film, strawberry.union("Media")]


@strawberry.type(name="Query")
class CatalogQuery:
    @strawberry.field
    def media(self) -> list[Media]:
        return [
            Book(id=strawberry.ID("b1"), title="Dune", copies=[Copy(id=strawberry.ID("c1"))]),
            Film(
                id=strawberry.ID("f1"),
                name="Alien",
                copies=[Copy(id=strawberry.ID("c2")), Copy(id=strawberry.ID("c3"))],
            ),
        ]


CATALOG = {
    "catalog": strawberry.federation.Schema(
        query=CatalogQuery, types=[Book, Film, Copy], federation_version="2.8"
    )
}


async def test_union_members_give_the_value_their_type_condition_selects() -> None:
    router, transport = router_over(CATALOG)
    query = (
        "{ media { ... on Book { copies { label(upper: true) } } "
        "... on Film { copies { label(upper: true) } } } }"
    )
    assert await router.execute(query) == {
        "data": {
            "media": [
                {"copies": [{"label": "DUNE #C1"}]},
                {"copies": [{"label": "ALIEN #C2"}, {"label": "ALIEN #C3"}]},
            ]
        }
    }
    sources = sorted(
        v["contextualArgument_0"] for s, q, v in transport.requests if v and "label" in q
    )
    assert sources == ["Alien", "Dune"]


async def test_the_plan_reads_each_members_field() -> None:
    router, _ = router_over(CATALOG)
    query = "{ media { ... on Book { copies { label } } ... on Film { copies { label } } } }"
    plan = router.planner.plan(router.prepare(query, None)[0].document)
    assert str(plan) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "catalog") {
              {
                media {
                  __typename
                  ... on Book {
                    copies {
                      __typename
                      id
                    }
                    __typename
                    title
                  }
                  ... on Film {
                    copies {
                      __typename
                      id
                    }
                    __typename
                    name
                  }
                }
              }
            },
            Flatten(path: "media.@.copies.@") {
              Fetch(service: "catalog") {
                $contextualArgument_0 = media.@.title on Book | media.@.name on Film
                {
                  ... on Copy {
                    __typename
                    id
                  }
                } =>
                {
                  ... on Copy {
                    label(source: $contextualArgument_0)
                  }
                }
              },
            },
          },
        }"""
    )


async def test_different_arguments_per_member_make_two_calls_each_for_its_own() -> None:
    router, transport = router_over(CATALOG)
    query = (
        "{ media { ... on Book { copies { label(upper: true) } } "
        "... on Film { copies { label } } } }"
    )
    assert await router.execute(query) == {
        "data": {
            "media": [
                {"copies": [{"label": "DUNE #C1"}]},
                {"copies": [{"label": "Alien #c2"}, {"label": "Alien #c3"}]},
            ]
        }
    }
    calls = [v for _, q, v in transport.requests if v and "label" in q]
    assert sorted((v["contextualArgument_0"], len(v["representations"])) for v in calls) == [
        ("Alien", 2),
        ("Dune", 1),
    ]


def test_the_supergraph_is_what_apollo_composition_writes() -> None:
    supergraph = compose_schemas(CATALOG)
    assert '@link(url: "https://specs.apollo.dev/context/v0.1", for: SECURITY)' in supergraph
    assert "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION" in (
        supergraph
    )
    assert "scalar context__ContextFieldValue" in supergraph
    assert '@context(name: "catalog__media")' in supergraph
    assert (
        "label(upper: Boolean! = false): String! @join__field(graph: CATALOG, contextArguments: "
        '[{context: "catalog__media", name: "source", type: "String", '
        'selection: " ... on Book { title } ... on Film { name }"}])'
    ) in supergraph
    assert "join__context" not in supergraph


def test_a_supergraph_apollo_composed_is_read_with_its_contexts() -> None:
    """`@context` as Apollo's supergraphs link it (context/v0.1), not a join directive."""
    supergraph = compose_schemas(CATALOG)
    read = read_supergraph(supergraph)
    assert read.types["Book"].contexts == ("catalog__media",)
    assert read.types["Film"].contexts == ("catalog__media",)
    renamed = supergraph.replace(
        '"https://specs.apollo.dev/context/v0.1", for: SECURITY',
        '"https://specs.apollo.dev/context/v0.1", as: "ctx", for: SECURITY',
    ).replace('@context(name: "catalog__media")', '@ctx(name: "catalog__media")')
    assert read_supergraph(renamed).types["Book"].contexts == ("catalog__media",)


@strawberry.type
class FolderMeta:
    id: strawberry.ID
    name: str
    size_bytes: int = strawberry.field(description="Folder size in bytes.")


@strawberry.input(description="The folder a file is listed under.")
class FolderRef:
    id: strawberry.ID
    name: str


@strawberry.federation.type(keys=["id"])
class File:
    id: strawberry.ID

    @strawberry.field(description="Path of the file under its nearest folder.")
    def path(
        self,
        folder: Annotated[
            FolderRef | None,
            strawberry.argument(directives=[FromContext(field="$folder { meta { id name } }")]),
        ] = None,
    ) -> str:
        assert folder is not None
        return f"{folder.id}:{folder.name}/{self.id}"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "File":
        return File(id=id)


@strawberry.type
class Group:
    name: str
    files: list[File]


@strawberry.federation.type(keys=["id"], directives=[Context(name="folder")])
class Folder:
    id: strawberry.ID
    meta: FolderMeta
    children: list["Folder"]
    groups: list[Group]


def _folder(name: str, children: list[Folder], files: list[str]) -> Folder:
    return Folder(
        id=strawberry.ID(name),
        meta=FolderMeta(id=strawberry.ID(name), name=name.title(), size_bytes=len(files)),
        children=children,
        groups=[Group(name="all", files=[File(id=strawberry.ID(f)) for f in files])],
    )


@strawberry.type(name="Query")
class DriveQuery:
    @strawberry.field
    def root(self) -> Folder:
        return _folder("home", [_folder("docs", [], ["a.txt", "b.txt"])], ["c.txt"])


DRIVE = {
    "drive": strawberry.federation.Schema(
        query=DriveQuery, types=[FolderRef], federation_version="2.8"
    )
}
DRIVE_QUERY = """{
  root {
    meta { name sizeBytes }
    groups { files { path } }
    children { groups { files { path } } }
  }
}"""


async def test_the_nearest_folder_above_gives_an_input_object() -> None:
    router, transport = router_over(DRIVE)
    assert await router.execute(DRIVE_QUERY) == {
        "data": {
            "root": {
                "meta": {"name": "Home", "sizeBytes": 1},
                "groups": [{"files": [{"path": "home:Home/c.txt"}]}],
                "children": [
                    {
                        "groups": [
                            {"files": [{"path": "docs:Docs/a.txt"}, {"path": "docs:Docs/b.txt"}]}
                        ]
                    }
                ],
            }
        }
    }
    folders = sorted(
        str(value)
        for _, query, variables in transport.requests
        if variables and "path" in query
        for name, value in variables.items()
        if name.startswith("contextualArgument")
    )
    # the client's `sizeBytes` is not passed: the input takes `id` and `name` only
    assert folders == ["{'id': 'docs', 'name': 'Docs'}", "{'id': 'home', 'name': 'Home'}"]


async def test_the_plan_lists_both_folders_nearest_first() -> None:
    router, _ = router_over(DRIVE)
    query = "{ root { children { groups { files { path } } } } }"
    plan = router.planner.plan(router.prepare(query, None)[0].document)
    assert str(plan) == dedent(
        """\
        QueryPlan {
          Sequence {
            Fetch(service: "drive") {
              {
                root {
                  children {
                    groups {
                      files {
                        __typename
                        id
                      }
                    }
                    __typename
                    meta {
                      id
                      name
                    }
                  }
                  __typename
                  meta {
                    id
                    name
                  }
                }
              }
            },
            Flatten(path: "root.children.@.groups.@.files.@") {
              Fetch(service: "drive") {
                $contextualArgument_0 = root.children.@.meta { id name } on Folder | root.meta { id name } on Folder
                {
                  ... on File {
                    __typename
                    id
                  }
                } =>
                {
                  ... on File {
                    path(folder: $contextualArgument_0)
                  }
                }
              },
            },
          },
        }"""  # noqa: E501
    )


@strawberry.federation.type(keys=["id"])
class Holding:
    id: strawberry.ID

    @strawberry.field(description="Market value of the holding, in its owner's currency.")
    def value(
        self,
        currency: Annotated[
            str | None,
            strawberry.argument(directives=[FromContext(field="$owner { currency }")]),
        ] = None,
    ) -> str:
        return f"{100 * {'EUR': 0.5, 'USD': 1.0}[currency or 'USD']:.2f} {currency}"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Holding":
        return Holding(id=id)


@strawberry.federation.interface(directives=[Context(name="owner")])
class Owner:
    id: strawberry.ID
    currency: str
    holdings: list[Holding]


@strawberry.federation.type(keys=["id"])
class Person(Owner):
    name: str


@strawberry.federation.type(keys=["id"])
class Fund(Owner):
    ticker: str


def _held(holding: str) -> list[Holding]:
    return [Holding(id=strawberry.ID(holding))]


@strawberry.type(name="Query")
class OwnersQuery:
    @strawberry.field
    def owners(self) -> list[Owner]:
        return [
            Person(id=strawberry.ID("p1"), currency="EUR", name="Ada", holdings=_held("h1")),
            Fund(id=strawberry.ID("f1"), currency="USD", ticker="ACWI", holdings=_held("h2")),
        ]


OWNERS = {
    "owners": strawberry.federation.Schema(
        query=OwnersQuery, types=[Person, Fund, Holding], federation_version="2.8"
    )
}


async def test_a_context_set_on_an_interface_reads_each_implementation() -> None:
    router, _ = router_over(OWNERS)
    query = "{ owners { id holdings { value } } }"
    assert await router.execute(query) == {
        "data": {
            "owners": [
                {"id": "p1", "holdings": [{"value": "50.00 EUR"}]},
                {"id": "f1", "holdings": [{"value": "100.00 USD"}]},
            ]
        }
    }
    plan = str(router.planner.plan(router.prepare(query, None)[0].document))
    assert "$contextualArgument_0 = owners.@.currency on Fund, Person" in plan


@strawberry.federation.type(keys=["id"])
class Tag:
    id: strawberry.ID

    @strawberry.field(description="Where the tagged animal was seen.")
    def seen_in(
        self,
        city: Annotated[
            str | None, strawberry.argument(directives=[FromContext(field="$site { city }")])
        ] = None,
    ) -> str:
        return f"{self.id} in {city}"

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> "Tag":
        return Tag(id=id)


@strawberry.federation.type(keys=["id"], directives=[Context(name="site")])
class Cat:
    id: strawberry.ID
    city: str
    tags: list[Tag]


@strawberry.federation.type(keys=["id"])
class Dog:
    id: strawberry.ID
    tags: list[Tag]


@strawberry.federation.type(keys=["id"], directives=[Context(name="site")])
class Zoo:
    id: strawberry.ID
    city: str
    animals: list[Annotated[Cat | Dog, strawberry.union("Animal")]]


@strawberry.type(name="Query")
class ZooQuery:
    @strawberry.field
    def zoos(self) -> list[Zoo]:
        cat = Cat(id=strawberry.ID("cat"), city="Oslo", tags=[Tag(id=strawberry.ID("t1"))])
        dog = Dog(id=strawberry.ID("dog"), tags=[Tag(id=strawberry.ID("t2"))])
        return [Zoo(id=strawberry.ID("z1"), city="Rome", animals=[cat, dog])]


ZOO = {
    "zoo": strawberry.federation.Schema(
        query=ZooQuery, types=[Cat, Dog, Tag], federation_version="2.8"
    )
}


async def test_a_member_without_the_context_reads_the_zoo_above_it() -> None:
    """The cat sets the context itself, the dog does not: the dog's tags read the zoo's."""
    router, transport = router_over(ZOO)
    query = "{ zoos { animals { ... on Cat { tags { seenIn } } ... on Dog { tags { seenIn } } } } }"
    assert await router.execute(query) == {
        "data": {
            "zoos": [
                {
                    "animals": [
                        {"tags": [{"seenIn": "t1 in Oslo"}]},
                        {"tags": [{"seenIn": "t2 in Rome"}]},
                    ]
                }
            ]
        }
    }
    assert len([q for _, q, _ in transport.requests if "seenIn" in q]) == 2  # one per city
    plan = str(router.planner.plan(router.prepare(query, None)[0].document))
    assert ("$contextualArgument_0 = zoos.@.animals.@.city on Cat | zoos.@.city on Zoo") in plan


def _compose(sdl: str) -> str:
    header = """
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.8",
                        import: ["@key", "@context", "@fromContext"])
    """
    return compose_supergraph([SubgraphSDL("shop", "http://shop", header + sdl)])


@pytest.mark.parametrize(
    ("sdl", "problem"),
    [
        (
            """
            type Query { t: T }
            type T @key(fields: "id") @context(name: "ctx") { id: ID! a: String! b: String! u: U }
            type U @key(fields: "id") {
              id: ID! v(x: String @fromContext(field: "$ctx { a b }")): Int }
            """,
            "selects more than one field",
        ),
        (
            """
            type Query { t: T }
            type T @key(fields: "id") @context(name: "ctx") { id: ID! a: String! u: U }
            type U { id: ID! v(x: String @fromContext(field: "$ctx { a }")): Int }
            """,
            "has no resolvable @key",
        ),
        (
            """
            type Query { t: T }
            type T @key(fields: "id") @context(name: "ctx") { id: ID! a: Int! u: U }
            type U @key(fields: "id") {
              id: ID! v(x: String @fromContext(field: "$ctx { a }")): Int }
            """,
            'gives a "Int!" where the argument takes "String"',
        ),
        (
            """
            type Query { t: T }
            type T @key(fields: "id") { id: ID! a: String! u: U }
            type U @key(fields: "id") {
              id: ID! v(x: String @fromContext(field: "$ctx { a }")): Int }
            """,
            'the context "ctx" is never set',
        ),
        (
            """
            type Query { t: T }
            union T @context(name: "ctx") = A | B
            type A @key(fields: "id") { id: ID! a: String! u: U }
            type B @key(fields: "id") { id: ID! a: String! u: U }
            type U @key(fields: "id") {
              id: ID! v(x: String @fromContext(field: "$ctx { a }")): Int }
            """,
            "selects a field on a union",
        ),
        (
            """
            type Query { t: T }
            type T @key(fields: "id") @context(name: "ctx") { id: ID! a: String! u: U }
            type U @key(fields: "id") {
              id: ID! v(x: String @fromContext(field: "$ctx { b: a }")): Int }
            """,
            "uses an alias",
        ),
    ],
)
def test_what_the_router_cannot_fill_is_refused_naming_the_field(sdl: str, problem: str) -> None:
    with pytest.raises(CompositionError) as raised:
        _compose(sdl)
    message = str(raised.value)
    assert '@fromContext on "U.v(x:)"' in message
    assert problem in message
