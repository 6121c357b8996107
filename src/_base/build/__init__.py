"""The warehouse build: discovery of database projects and the build steps."""
