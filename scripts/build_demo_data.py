"""Build the demo dataset shipped in nexus/demo/data from ../shared/data (real public data).

Run from the repository root: `python scripts/build_demo_data.py [SHARED_DATA_DIR]`.
Output is deterministic (sorted, gzip without timestamps) so a rebuild shows no diff.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "nexus" / "demo" / "data"

# FRED series: id -> (title, units, frequency), as FRED publishes them.
FRED_SERIES: dict[str, tuple[str, str, str]] = {
    "AHETPI": (
        "Average Hourly Earnings of Production and Nonsupervisory Employees, Total Private",
        "Dollars per Hour",
        "Monthly",
    ),
    "ANFCI": ("Chicago Fed Adjusted National Financial Conditions Index", "Index", "Weekly"),
    "BAMLC0A0CM": ("ICE BofA US Corporate Index Option-Adjusted Spread", "Percent", "Daily"),
    "BAMLH0A0HYM2": ("ICE BofA US High Yield Index Option-Adjusted Spread", "Percent", "Daily"),
    "BUSLOANS": (
        "Commercial and Industrial Loans, All Commercial Banks",
        "Billions of U.S. Dollars",
        "Monthly",
    ),
    "CFNAI": ("Chicago Fed National Activity Index", "Index", "Monthly"),
    "CIVPART": ("Labor Force Participation Rate", "Percent", "Monthly"),
    "CPIAUCSL": (
        "Consumer Price Index for All Urban Consumers: All Items in U.S. City Average",
        "Index 1982-1984=100",
        "Monthly",
    ),
    "CPILFESL": (
        "Consumer Price Index for All Urban Consumers: All Items Less Food and Energy in U.S. City Average",
        "Index 1982-1984=100",
        "Monthly",
    ),
    "CSUSHPINSA": (
        "S&P CoreLogic Case-Shiller U.S. National Home Price Index",
        "Index Jan 2000=100",
        "Monthly",
    ),
    "DCOILBRENTEU": ("Crude Oil Prices: Brent - Europe", "Dollars per Barrel", "Daily"),
    "DCOILWTICO": (
        "Crude Oil Prices: West Texas Intermediate (WTI) - Cushing, Oklahoma",
        "Dollars per Barrel",
        "Daily",
    ),
    "DGORDER": ("Manufacturers' New Orders: Durable Goods", "Millions of Dollars", "Monthly"),
    "DGS10": (
        "Market Yield on U.S. Treasury Securities at 10-Year Constant Maturity, Quoted on an Investment Basis",
        "Percent",
        "Daily",
    ),
    "DGS2": (
        "Market Yield on U.S. Treasury Securities at 2-Year Constant Maturity, Quoted on an Investment Basis",
        "Percent",
        "Daily",
    ),
    "DGS30": (
        "Market Yield on U.S. Treasury Securities at 30-Year Constant Maturity, Quoted on an Investment Basis",
        "Percent",
        "Daily",
    ),
    "DTWEXBGS": ("Nominal Broad U.S. Dollar Index", "Index Jan 2006=100", "Daily"),
    "FEDFUNDS": ("Federal Funds Effective Rate", "Percent", "Monthly"),
    "GASREGW": ("US Regular All Formulations Gas Price", "Dollars per Gallon", "Weekly"),
    "GDP": ("Gross Domestic Product", "Billions of Dollars", "Quarterly"),
    "GDPC1": ("Real Gross Domestic Product", "Billions of Chained 2017 Dollars", "Quarterly"),
    "HOUST": (
        "New Privately-Owned Housing Units Started: Total Units",
        "Thousands of Units",
        "Monthly",
    ),
    "HSN1F": ("New One Family Houses Sold: United States", "Thousands", "Monthly"),
    "ICSA": ("Initial Claims", "Number", "Weekly"),
    "INDPRO": ("Industrial Production: Total Index", "Index 2017=100", "Monthly"),
    "JTSJOL": ("Job Openings: Total Nonfarm", "Level in Thousands", "Monthly"),
    "M2SL": ("M2", "Billions of Dollars", "Monthly"),
    "MICH": ("University of Michigan: Inflation Expectation", "Percent", "Monthly"),
    "MORTGAGE30US": (
        "30-Year Fixed Rate Mortgage Average in the United States",
        "Percent",
        "Weekly",
    ),
    "OILPRICE": (
        "Spot Crude Oil Price: West Texas Intermediate (DISCONTINUED)",
        "Dollars per Barrel",
        "Monthly",
    ),
    "PALLFNFINDEXM": ("Global Price Index of All Commodities", "Index 2016=100", "Monthly"),
    "PAYEMS": ("All Employees, Total Nonfarm", "Thousands of Persons", "Monthly"),
    "PCEPILFE": (
        "Personal Consumption Expenditures Excluding Food and Energy (Chain-Type Price Index)",
        "Index 2017=100",
        "Monthly",
    ),
    "PCOPPUSDM": ("Global Price of Copper", "U.S. Dollars per Metric Ton", "Monthly"),
    "PPIFIS": ("Producer Price Index by Commodity: Final Demand", "Index Nov 2009=100", "Monthly"),
    "RRPONTSYD": (
        "Overnight Reverse Repurchase Agreements: Treasury Securities Sold by the Federal Reserve in the Temporary Open Market Operations",
        "Billions of US Dollars",
        "Daily",
    ),
    "RSXFS": ("Advance Retail Sales: Retail Trade", "Millions of Dollars", "Monthly"),
    "SP500": ("S&P 500", "Index", "Daily"),
    "STLFSI4": ("St. Louis Fed Financial Stress Index", "Index", "Weekly"),
    "T10Y2Y": (
        "10-Year Treasury Constant Maturity Minus 2-Year Treasury Constant Maturity",
        "Percent",
        "Daily",
    ),
    "T10YIE": ("10-Year Breakeven Inflation Rate", "Percent", "Daily"),
    "T5YIE": ("5-Year Breakeven Inflation Rate", "Percent", "Daily"),
    "U6RATE": (
        "Total Unemployed, Plus All Persons Marginally Attached to the Labor Force, Plus Total Employed Part Time for Economic Reasons",
        "Percent",
        "Monthly",
    ),
    "UMCSENT": ("University of Michigan: Consumer Sentiment", "Index 1966:Q1=100", "Monthly"),
    "UNRATE": ("Unemployment Rate", "Percent", "Monthly"),
    "USREC": (
        "NBER based Recession Indicators for the United States from the Period following the Peak through the Trough",
        "+1 or 0",
        "Monthly",
    ),
    "VIXCLS": ("CBOE Volatility Index: VIX", "Index", "Daily"),
    "WALCL": (
        "Assets: Total Assets: Total Assets (Less Eliminations from Consolidation): Wednesday Level",
        "Millions of U.S. Dollars",
        "Weekly",
    ),
    "WM2NS": ("M2", "Billions of Dollars", "Weekly"),
}
TENORS = [
    "1 Mo",
    "2 Mo",
    "3 Mo",
    "4 Mo",
    "6 Mo",
    "1 Yr",
    "2 Yr",
    "3 Yr",
    "5 Yr",
    "7 Yr",
    "10 Yr",
    "20 Yr",
    "30 Yr",
]
CRYPTO = {"BTC": "BTC-USD.csv", "ETH": "ETH-USD.csv", "USDT": "USDT-USD.csv"}
STOCKS = {
    "GME": "GME.csv",
    "AMC": "AMC.csv",
    "BB": "BB-2021.csv",
    "NOK": "NOK-2021.csv",
    "TSLA": "TSLA-2021.csv",
}


def write_gz(name: str, header: list[str], rows: list[list[str]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with (OUT / name).open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(text.getvalue().encode())


def ohlcv(path: Path, symbol: str) -> list[list[str]]:
    with path.open() as file:
        return [
            [symbol, r["Date"], r["Open"], r["High"], r["Low"], r["Close"], r["Volume"]]
            for r in csv.DictReader(file)
            if r["Close"] not in ("", "null")
        ]


def main(shared: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    series = [[sid, *meta] for sid, meta in sorted(FRED_SERIES.items())]
    write_gz("fred_series.csv.gz", ["id", "title", "units", "frequency"], series)
    observations: list[list[str]] = []
    for sid in sorted(FRED_SERIES):
        with (shared / "fred" / f"{sid}.csv").open() as file:
            observations += [
                [sid, r["date"], r["value"]]
                for r in csv.DictReader(file)
                if r["value"] not in ("", ".")
            ]
    write_gz("fred_observations.csv.gz", ["series_id", "date", "value"], observations)

    curve: list[list[str]] = []
    with (shared / "treasury" / "yield-curve-rates-1990-2024.csv").open() as file:
        for r in csv.DictReader(file):
            day = dt.datetime.strptime(r["Date"], "%m/%d/%y").date()
            curve.append([day.isoformat(), *(r.get(tenor, "") for tenor in TENORS)])
    write_gz("treasury_par_curve.csv.gz", ["date", *TENORS], sorted(curve))

    header = ["symbol", "date", "open", "high", "low", "close", "volume"]
    write_gz(
        "crypto_candles.csv.gz",
        header,
        [row for sym, f in CRYPTO.items() for row in ohlcv(shared / "crypto" / f, sym)],
    )
    write_gz(
        "stock_candles.csv.gz",
        header,
        [row for sym, f in STOCKS.items() for row in ohlcv(shared / "equities" / f, sym)],
    )

    with (shared / "equities" / "NASDAQ.csv").open() as file:
        nasdaq = [
            ["NASDAQ", r["Date"], r["Close"]]
            for r in csv.DictReader(file)
            if r["Close"] not in ("", "null")
        ]
    write_gz("benchmark_closes.csv.gz", ["symbol", "date", "close"], nasdaq)

    with (shared / "social" / "wsb-sample-2019.csv").open() as file:
        comments = [[r["id"], r["created"], r["score"], r["body"]] for r in csv.DictReader(file)]
    write_gz("wsb_comments.csv.gz", ["id", "created", "score", "body"], comments)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
