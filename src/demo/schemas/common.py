from src._base.build.project import Schema

SCHEMA = Schema(name="common", layer="common", description="Reference data shared by all layers")
