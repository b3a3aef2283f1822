"""GraphQL types of yield-curve analytics: Nelson-Siegel(-Svensson) fits and the bootstrap.

Curves answer in packed columns (parallel `[Float!]!` lists) so a year of daily curves is a
few thousand floats, not thousands of small objects.
"""

from __future__ import annotations

import enum
from typing import Annotated

import numpy as np
import strawberry
from strawberry.types import Info

from subgraphs.columns import FloatColumn
from subgraphs.macro import curves
from subgraphs.macro.inputs import check_tenors
from subgraphs.macro.loaders import MacroContext

STANDARD_TENORS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0, 30.0)
TENORS_HELP = (
    "Null, with an error naming the tenor, if one is out of range. "
    "Maturities in years (0 to 100), in the order wanted; default 3M, 6M, 1Y, 2Y, 3Y, 5Y, 7Y, "
    "10Y, 20Y, 30Y."
)


@strawberry.enum(description="A parametric yield-curve model.")
class CurveModelName(enum.Enum):
    NELSON_SIEGEL = strawberry.enum_value(
        "nelson_siegel", description="Nelson-Siegel (1987): level, slope, curvature, one decay."
    )
    SVENSSON = strawberry.enum_value(
        "svensson", description="Nelson-Siegel-Svensson (1994): a second curvature term and decay."
    )


@strawberry.type(
    description="Fitted model parameters: y(t) = b0 + b1 L1(t/tau1) + b2 L2(t/tau1) "
    "+ b3 L2(t/tau2), L1(x) = (1 - e^-x)/x, L2(x) = L1(x) - e^-x."
)
class CurveParameters:
    beta0_percent: float = strawberry.field(description="Level b0: the long-run rate, percent.")
    beta1_percent: float = strawberry.field(
        description="Slope b1: b0 + b1 is the short rate, percent."
    )
    beta2_percent: float = strawberry.field(description="First curvature b2, percent.")
    beta3_percent: float | None = strawberry.field(
        description="Second curvature b3, percent; null for Nelson-Siegel."
    )
    tau1_years: float = strawberry.field(description="First decay time tau1, years.")
    tau2_years: float | None = strawberry.field(
        description="Second decay time tau2, years; null for Nelson-Siegel."
    )


def tenors_or_standard(tenors: list[float] | None) -> tuple[float, ...]:
    return STANDARD_TENORS if tenors is None else check_tenors(tenors)


@strawberry.type(
    description="A model fitted by least squares to the day's continuously compounded zero rates "
    "at its published tenors (bills converted from their bond-equivalent yields, coupon tenors "
    "bootstrapped from the par curve)."
)
class FittedCurve:
    model: CurveModelName = strawberry.field(description="The model fitted.")
    parameters: CurveParameters = strawberry.field(description="The fitted parameters.")
    rmse_bp: float = strawberry.field(
        description="Root-mean-square error of the fit over the published tenors, basis points."
    )
    observations: int = strawberry.field(description="Published tenors the fit used.")
    svensson_parameters: strawberry.Private[tuple[float, ...]]

    async def _values(
        self, info: Info[MacroContext, None], tenors: list[float] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        key = (self.svensson_parameters, tenors_or_standard(tenors))
        result: tuple[np.ndarray, np.ndarray] = await info.context.analytics.fit_values.load(key)
        return result

    # Batched: every fit of the request shares one engine call.
    @strawberry.field(
        description="Zero rates of the fitted curve at `tenors`, percent, continuously compounded."
    )
    async def zero_rates(
        self,
        info: Info[MacroContext, None],
        tenors: Annotated[list[float] | None, strawberry.argument(description=TENORS_HELP)] = None,
    ) -> FloatColumn | None:
        zero, _ = await self._values(info, tenors)
        return FloatColumn(100 * zero)

    # Batched: every fit of the request shares one engine call.
    @strawberry.field(
        description="Instantaneous forward rates of the fitted curve at `tenors`, percent, "
        "continuously compounded."
    )
    async def forward_rates(
        self,
        info: Info[MacroContext, None],
        tenors: Annotated[list[float] | None, strawberry.argument(description=TENORS_HELP)] = None,
    ) -> FloatColumn | None:
        _, forward = await self._values(info, tenors)
        return FloatColumn(100 * forward)

    # Batched: every fit of the request shares one engine call.
    @strawberry.field(
        description="Discount factors exp(-z(t) t) of the fitted curve at `tenors`, fraction of "
        "face (1 = no discount)."
    )
    async def discount_factors(
        self,
        info: Info[MacroContext, None],
        tenors: Annotated[list[float] | None, strawberry.argument(description=TENORS_HELP)] = None,
    ) -> FloatColumn | None:
        zero, _ = await self._values(info, tenors)
        times = np.asarray(tenors_or_standard(tenors))
        return FloatColumn(np.exp(-zero * times))


def fitted_curve(fit: curves.CurveFit) -> FittedCurve:
    b0, b1, b2, b3, tau1, tau2 = fit.parameters
    svensson = fit.model is curves.CurveModel.SVENSSON
    return FittedCurve(
        model=CurveModelName(fit.model.value),
        parameters=CurveParameters(
            beta0_percent=100 * b0,
            beta1_percent=100 * b1,
            beta2_percent=100 * b2,
            beta3_percent=100 * b3 if svensson else None,
            tau1_years=tau1,
            tau2_years=tau2 if svensson else None,
        ),
        rmse_bp=10_000 * fit.rmse,
        observations=fit.observations,
        svensson_parameters=fit.parameters,
    )


@strawberry.federation.type(
    shareable=True,  # crypto reads maturitiesYears/zeroRates through @requires
    description="The zero curve bootstrapped from the par curve: bills (1M-4M) as zero-coupon "
    "bills, then semiannual nodes from 6M to the longest published tenor. Parallel columns, one "
    "entry per node."
)
class BootstrappedCurve:
    maturities_years: FloatColumn = strawberry.field(description="Node maturities, years.")
    zero_rates: FloatColumn = strawberry.field(
        description="Zero rates, percent, continuously compounded."
    )
    discount_factors: FloatColumn = strawberry.field(
        description="Discount factors, fraction of face."
    )
    forward_rates: FloatColumn = strawberry.field(
        description="Forward rates from the previous node (or today) to this one, percent, "
        "continuously compounded."
    )


def bootstrapped_curve(curve: curves.ZeroCurve) -> BootstrappedCurve:
    return BootstrappedCurve(
        maturities_years=FloatColumn(curve.times),
        zero_rates=FloatColumn(100 * curve.zero_rates),
        discount_factors=FloatColumn(curve.discount_factors),
        forward_rates=FloatColumn(100 * curve.forward_rates),
    )
