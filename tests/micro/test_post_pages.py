"""Posts by cashtag as a Relay connection: pages follow each other without gaps or repeats,
match the plain list, and a bad cursor or page size is a clear error."""

from __future__ import annotations

from tests.micro.conftest import GraphQL

PAGE = """
query Page($after: String, $first: Int!) {
  postsByCashtag(cashtag: "$gme", from: "2021-01-27", to: "2021-01-27", first: $first,
                 after: $after) {
    edges { cursor node { id createdAt cashtags source } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def test_pages_walk_every_post_once_newest_first(graphql: GraphQL) -> None:
    everything = await graphql(
        '{ stock(symbol: "GME") { posts(from: "2021-01-27", to: "2021-01-27", limit: 500) '
        "{ id } postCount(from: \"2021-01-27\", to: \"2021-01-27\") } }"
    )
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        result = await graphql(PAGE, first=40, after=after)
        assert result.errors is None
        connection = result.data["postsByCashtag"]
        edges = connection["edges"]
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["endCursor"] == edges[-1]["cursor"]
        assert info["startCursor"] == edges[0]["cursor"]
        assert all("GME" in edge["node"]["cashtags"] for edge in edges)
        seen += [edge["node"]["id"] for edge in edges]
        pages += 1
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]

    count = everything.data["stock"]["postCount"]
    assert pages == -(-count // 40)
    assert len(seen) == len(set(seen)) == count
    # The same posts as the plain list.
    plain = [post["id"] for post in everything.data["stock"]["posts"]]
    assert set(seen) == set(plain)


async def test_connections_filter_by_source(graphql: GraphQL) -> None:
    # The demo's one real r/wallstreetbets comment with a cashtag tags $SPY.
    result = await graphql(
        """{
          spy: postsByCashtag(cashtag: "SPY", source: "reddit") {
            edges { node { source cashtags synthetic } } }
          gmeReddit: stock(symbol: "GME") { postsConnection(source: "reddit") {
            edges { node { id } } pageInfo { hasNextPage endCursor } } }
          gmeSynthetic: stock(symbol: "GME") { postsConnection(source: "synthetic", first: 3) {
            edges { node { source } } pageInfo { hasNextPage } } }
        }"""
    )

    assert result.errors is None
    assert result.data["spy"]["edges"] == [
        {"node": {"source": "reddit", "cashtags": ["SPY"], "synthetic": False}}
    ]
    assert result.data["gmeReddit"]["postsConnection"] == {
        "edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}
    }
    synthetic = result.data["gmeSynthetic"]["postsConnection"]
    assert [edge["node"]["source"] for edge in synthetic["edges"]] == ["synthetic"] * 3
    assert synthetic["pageInfo"]["hasNextPage"] is True


async def test_a_forged_cursor_and_a_page_too_large_are_bad_input(graphql: GraphQL) -> None:
    forged = await graphql(PAGE, first=5, after="bm90LWEtY3Vyc29y")
    huge = await graphql(PAGE, first=1000)

    assert forged.data is None or forged.data["postsByCashtag"] is None
    assert forged.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert "`after`" in forged.errors[0].message
    assert huge.errors[0].extensions["code"] == "BAD_USER_INPUT"
    assert "`first`" in huge.errors[0].message
