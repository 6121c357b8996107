"""The demo database project: a brokerage and market-data warehouse."""

from src._base.build.project import DatabaseProject
from src._base.sources.declared import LandingSource, PostgresSource

DATABASE = DatabaseProject(
    name="demo",
    description="Brokerage / market-data warehouse: instruments, portfolios, trades, bars",
    sources=(
        # the brokerage's operational database; by default MEDALLION_SOURCE_DATABASE
        # (demo_source) on the warehouse's server
        PostgresSource("operational", description="orders, trades, instruments, portfolios"),
        # Parquet bars as the market-data ingest lands them; by default MEDALLION_LANDING_DIR
        LandingSource("landing", description="one-minute bars, one file per symbol and day"),
    ),
)

# The last business day the operational source's snapshots (instruments, portfolios)
# describe: its own record of the days it has closed. A later date is refused.
CURRENT_THROUGH = "SELECT max(logical_date) FROM ops.generated_day"
