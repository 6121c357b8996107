from src._base.build.project import Schema

SCHEMA = Schema(
    name="gold",
    layer="gold",
    description="Marts, facts and KPIs rebuilt as deterministic snapshots",
)
