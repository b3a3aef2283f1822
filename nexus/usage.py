"""One metered operation: what the router's usage meter records and the platform store keeps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from nexus.auth.caller import Caller

UsageStatus = Literal["ok", "error", "refused", "rate_limited"]


@dataclass(frozen=True, slots=True)
class UsageEvent:
    at: dt.datetime  # UTC
    caller_kind: str
    organization_id: str | None
    user_id: str | None
    api_key_id: str | None
    client_id: str | None
    plan: str
    operation_name: str | None
    estimated_cost: int  # cost units
    actual_cost: int  # cost units
    status: UsageStatus

    @classmethod
    def of(
        cls,
        caller: Caller,
        operation_name: str | None,
        estimated: int,
        actual: int,
        status: UsageStatus,
    ) -> UsageEvent:
        return cls(
            at=dt.datetime.now(dt.UTC),
            caller_kind=caller.kind,
            organization_id=caller.organization_id,
            user_id=caller.user_id,
            api_key_id=caller.api_key_id,
            client_id=caller.client_id,
            plan=caller.plan.name,
            operation_name=operation_name,
            estimated_cost=estimated,
            actual_cost=actual,
            status=status,
        )
