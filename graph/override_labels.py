"""Which progressive @override labels are on for one request.

`percent(x)` labels are switched on for x% of requests, by chance; any other label is on when
the deployment names it (a feature flag).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable

_PERCENT = re.compile(r"^percent\((\d+(?:\.\d+)?)\)$")


class OverrideLabels:
    def __init__(
        self,
        labels: Iterable[str],
        *,
        enabled: Iterable[str] = (),
        roll: Callable[[], float] = random.random,
    ) -> None:
        self.percentages: dict[str, float] = {}
        self.enabled = frozenset(enabled)
        for label in labels:
            matched = _PERCENT.match(label)
            if matched:
                self.percentages[label] = float(matched.group(1))
        self.roll = roll

    def for_request(self) -> frozenset[str]:
        if not self.percentages:  # no label left to chance (most supergraphs): the same set
            return self.enabled
        on = {label for label, percent in self.percentages.items() if self.roll() * 100 < percent}
        return frozenset(on) | self.enabled
