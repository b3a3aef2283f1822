"""The macro database: FRED series and observations, the Treasury par yield curve."""

DATABASE = "macro"

# One row per state of a simulation job; the highest version is the job's current state.
SIMULATION_JOBS = f"""CREATE TABLE IF NOT EXISTS {DATABASE}.simulation_jobs (
    job_id String,
    version UInt64,
    status LowCardinality(String),
    progress Float64,
    result String,
    error Nullable(String),
    published_at Float64,
    owner String DEFAULT ''
) ENGINE = ReplacingMergeTree(version) ORDER BY job_id"""
# Tables made before jobs had owners (cancelSimulation checks them) gain the column.
SIMULATION_JOB_OWNERS = (
    f"ALTER TABLE {DATABASE}.simulation_jobs ADD COLUMN IF NOT EXISTS owner String DEFAULT ''"
)

STATEMENTS = [
    f"CREATE DATABASE IF NOT EXISTS {DATABASE}",
    f"""CREATE TABLE IF NOT EXISTS {DATABASE}.series (
        id LowCardinality(String),
        title String,
        units String,
        frequency LowCardinality(String)
    ) ENGINE = ReplacingMergeTree ORDER BY id""",
    f"""CREATE TABLE IF NOT EXISTS {DATABASE}.observations (
        series_id LowCardinality(String),
        date Date,
        value Float64
    ) ENGINE = ReplacingMergeTree ORDER BY (series_id, date)""",
    # Long format: one row per published tenor (2M and 4M start late; 30Y pauses 2002-2006).
    f"""CREATE TABLE IF NOT EXISTS {DATABASE}.par_curve (
        date Date,
        months UInt16,
        rate Float64
    ) ENGINE = ReplacingMergeTree ORDER BY (date, months)""",
    SIMULATION_JOBS,
]
