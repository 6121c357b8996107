from src._base.build.project import Schema

SCHEMA = Schema(
    name="silver",
    layer="silver",
    description="Cleansed, conformed, de-duplicated; entities keep full history",
)
