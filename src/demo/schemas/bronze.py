from src._base.build.project import Schema

SCHEMA = Schema(
    name="bronze",
    layer="bronze",
    description="Raw landing: append-only, every row stamped with its batch, source and hash",
)
