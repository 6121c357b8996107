-- One day of the pipeline, in order. Set the run's parameters first (the values
-- scripts/check_ports.py uses for a date: day, prev, next as YYYY-MM-DD; as_of,
-- day_start, known_at as 'YYYY-MM-DD HH24:MI:SS' in UTC; year, month, dd).
ALTER SESSION SET TIMEZONE = 'UTC';
-- Instants are printed into keys and records from this format's first 19 characters.
ALTER SESSION SET TIMESTAMP_TZ_OUTPUT_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM';
SET DAY = '<day>';
SET PREV = '<prev>';
SET NEXT = '<next>';
SET AS_OF = '<as_of>';
SET START_OF_DAY = '<day_start>';
SET KNOWN_AT = '<known_at>';
SET YEAR = '<year>';
SET MONTH = '<month>';
SET DD = '<dd>';
-- The landing zone of the stage bronze.LANDING: as the warehouse's loads read it, and
-- the prefix of its files' URIs there (recorded as each batch's source and file).
SET LANDING_ZONE = '<e.g. s3://bucket/landing>';
SET LANDING_URI = '<e.g. s3a://bucket/landing>';
-- Then, in the same session and in this order, each transform's script (SnowSQL:
-- !source <file>):
--   bronze/bar_to_bronze.sql
--   bronze/instrument_to_bronze.sql
--   bronze/portfolio_to_bronze.sql
--   bronze/trade_to_bronze.sql
--   silver/instrument_to_silver.sql
--   silver/portfolio_to_silver.sql
--   silver/bar_to_silver.sql
--   silver/trade_to_silver.sql
--   gold/bar_to_gold.sql
--   gold/timeframe_bar_to_gold.sql
--   gold/trade_kpi_to_gold.sql
--   gold/position_to_gold.sql
--   gold/portfolio_value_to_gold.sql
