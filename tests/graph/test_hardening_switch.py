"""NEXUS_HARDENING_CHECKS=off exists only so that benchmarks can measure what the checks cost
normal traffic (benchmarks/router.py, hostile.py --checks-off, subscriptions.py --variants):
it must turn the checks off, and only an exact `on`/`off` is accepted."""

from __future__ import annotations

import pytest

from graph.limits import RequestLimits, checks_enabled
from tests.graph.support import router_over
from tests.graph.test_entities import SCHEMAS

ALIASES = "{ " + " ".join(f"a{n}: topProducts(first: 1) {{ upc }}" for n in range(31)) + " }"


async def test_the_checks_are_on_by_default_and_refuse_31_root_fields() -> None:
    router, _ = router_over(SCHEMAS, limits=RequestLimits.from_env({}))
    result = await router.execute(ALIASES)
    assert [e["extensions"]["code"] for e in result["errors"]] == ["MAX_ROOT_FIELDS_EXCEEDED"]


async def test_off_answers_what_the_limits_refuse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXUS_HARDENING_CHECKS", "off")
    router, _ = router_over(SCHEMAS, limits=RequestLimits.from_env())
    result = await router.execute(ALIASES)
    assert "errors" not in result
    assert len(result["data"]) == 31
    # A NUL in the variables is answered too (BAD_USER_INPUT with the checks on).
    with_nul = await router.execute(
        "query($n: Int) { topProducts(first: $n) { upc } }", {"n": 1}, "\x00"
    )
    assert all(e["extensions"]["code"] != "BAD_USER_INPUT" for e in with_nul.get("errors", []))


def test_only_on_or_off_is_accepted() -> None:
    assert checks_enabled({}) is True
    assert checks_enabled({"NEXUS_HARDENING_CHECKS": "OFF"}) is False
    with pytest.raises(ValueError, match="NEXUS_HARDENING_CHECKS"):
        checks_enabled({"NEXUS_HARDENING_CHECKS": "no"})
