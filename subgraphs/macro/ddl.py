"""The macro database: FRED series and observations (with ALFRED vintages), the Treasury par
yield curve, simulation jobs."""

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
    owner String DEFAULT '',
    runner String DEFAULT ''
) ENGINE = ReplacingMergeTree(version) ORDER BY job_id"""
# Tables made before jobs had owners (cancelSimulation checks them) gain the column.
SIMULATION_JOB_OWNERS = (
    f"ALTER TABLE {DATABASE}.simulation_jobs ADD COLUMN IF NOT EXISTS owner String DEFAULT ''"
)
# ... and the column naming the runner (one per process) that took the job.
SIMULATION_JOB_RUNNERS = (
    f"ALTER TABLE {DATABASE}.simulation_jobs ADD COLUMN IF NOT EXISTS runner String DEFAULT ''"
)
# The leases of runners with jobs: a runner renews its lease while it has jobs queued or
# running; a job whose runner's lease expired was lost with its process (SIGKILL, OOM).
SIMULATION_LEASES = f"""CREATE TABLE IF NOT EXISTS {DATABASE}.simulation_leases (
    runner String,
    version UInt64,
    expires_at Float64
) ENGINE = ReplacingMergeTree(version) ORDER BY runner"""


def statements(database: str = DATABASE) -> list[str]:
    """The tables of the macro store, in `database` (tests ingest into their own)."""
    return [
        f"CREATE DATABASE IF NOT EXISTS {database}",
        f"""CREATE TABLE IF NOT EXISTS {database}.series (
            id LowCardinality(String),
            title String,
            units String,
            frequency LowCardinality(String)
        ) ENGINE = ReplacingMergeTree ORDER BY id""",
        # The values as currently published (the last vintage): what every field reads.
        f"""CREATE TABLE IF NOT EXISTS {database}.observations (
            series_id LowCardinality(String),
            date Date,
            value Float64
        ) ENGINE = ReplacingMergeTree ORDER BY (series_id, date)""",
        # ALFRED vintages: `value` was the published one from realtime_start to realtime_end
        # inclusive (9999-12-31 in FRED, stored as 2149-06-06: still current). NULL where FRED
        # published "." (no value) in that vintage. Date32: FRED series start before 1970 (GDP
        # in 1947), where Date ends; `observations` keeps 1970 on, as it always has.
        f"""CREATE TABLE IF NOT EXISTS {database}.observation_vintages (
            series_id LowCardinality(String),
            date Date32,
            realtime_start Date32,
            realtime_end Date32,
            value Nullable(Float64)
        ) ENGINE = ReplacingMergeTree ORDER BY (series_id, date, realtime_start)""",
        # Long format: one row per published tenor (2M and 4M start late; 30Y pauses 2002-2006).
        f"""CREATE TABLE IF NOT EXISTS {database}.par_curve (
            date Date,
            months UInt16,
            rate Float64
        ) ENGINE = ReplacingMergeTree ORDER BY (date, months)""",
    ]


STATEMENTS = [*statements(DATABASE), SIMULATION_JOBS, SIMULATION_LEASES]
