"""Chart preparation: LTTB downsampling and OHLC(V) resampling of tick series."""

from engines.charts.lttb import DownsampledSeries, lttb_downsample
from engines.charts.ohlc import OHLCBars, ohlc_bars

__all__ = ["DownsampledSeries", "OHLCBars", "lttb_downsample", "ohlc_bars"]
