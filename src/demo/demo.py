"""The demo database project: a brokerage and market-data warehouse."""

from src._base.build.project import DatabaseProject

DATABASE = DatabaseProject(
    name="demo",
    description="Brokerage / market-data warehouse: instruments, portfolios, trades, bars",
)
