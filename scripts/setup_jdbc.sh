#!/usr/bin/env bash
# Make sure PostgreSQL's JDBC driver is present for Spark's JDBC source.
# Installs Debian's libpostgresql-jdbc-java when apt is usable; otherwise says what to do.
# Nothing in the build needs it yet (the Spark pipeline does), so a miss only warns.
set -uo pipefail
jar="${1:-/usr/share/java/postgresql.jar}"
[ -f "$jar" ] && exit 0
if [ -n "${MEDALLION_JDBC_JAR:-}" ] && [ -f "$MEDALLION_JDBC_JAR" ]; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's libpostgresql-jdbc-java (PostgreSQL JDBC driver for Spark)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq libpostgresql-jdbc-java >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 \
         && apt-get install -y -qq libpostgresql-jdbc-java >/dev/null 2>&1; }
  [ -f "$jar" ] && exit 0
fi
cat >&2 <<MSG
WARNING: PostgreSQL's JDBC driver is missing ($jar) and could not be installed here.
Spark's JDBC source needs it. Install it with: sudo apt-get install libpostgresql-jdbc-java
or download postgresql-<version>.jar and set MEDALLION_JDBC_JAR=/path/to/it.
MSG
exit 0
