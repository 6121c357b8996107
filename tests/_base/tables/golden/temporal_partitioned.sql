CREATE TABLE silver.instrument_hist (
	instrument_id INTEGER NOT NULL, 
	symbol VARCHAR(32) NOT NULL, 
	name VARCHAR, 
	price NUMERIC(18, 6), 
	sys_start TIMESTAMP WITH TIME ZONE DEFAULT medallion.system_time() NOT NULL, 
	sys_end TIMESTAMP WITH TIME ZONE DEFAULT 'infinity' NOT NULL, 
	PRIMARY KEY (instrument_id, sys_end)
)
 PARTITION BY RANGE (sys_end);

CREATE TABLE "silver"."instrument_hist_current" PARTITION OF "silver"."instrument_hist"
FOR VALUES FROM ('infinity') TO (MAXVALUE) WITH (fillfactor = 90);

CREATE TABLE "silver"."instrument_hist_closed" PARTITION OF "silver"."instrument_hist"
FOR VALUES FROM (MINVALUE) TO ('infinity');

ALTER TABLE "silver"."instrument_hist" ADD CONSTRAINT "instrument_hist_period_check" CHECK (sys_start < sys_end);

CREATE OR REPLACE FUNCTION "silver"."instrument_hist__before_update"() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := medallion.system_time();
BEGIN
    IF current_setting('medallion.allow_history_rewrite', true) = 'on' THEN
        IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = 'medallion.allow_history_rewrite is honoured for the table''s owner only';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.sys_end <> 'infinity' OR NEW.sys_end <> 'infinity'
       OR OLD.sys_start > t OR NEW.sys_start IS DISTINCT FROM OLD.sys_start
       OR NEW."instrument_id" IS DISTINCT FROM OLD."instrument_id" THEN
        IF OLD.sys_end <> 'infinity' THEN
            RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = format('silver.instrument_hist: version of key (%s) valid from %s to %s '
                'is closed and cannot be changed', concat_ws(', ', OLD."instrument_id"::text),
                OLD.sys_start, OLD.sys_end),
            HINT = 'Change the current version (sys_end = ''infinity'') instead. Repairs need '
                'SET LOCAL medallion.allow_history_rewrite = on.';
        ELSIF NEW.sys_end <> 'infinity' OR NEW.sys_start IS DISTINCT FROM OLD.sys_start THEN
            RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'silver.instrument_hist: sys_start and sys_end are maintained by the '
                'framework',
            HINT = 'Leave them out of the UPDATE; to write history as of another time, '
                'call medallion.set_system_time() first.';
        ELSIF OLD.sys_start > t THEN
            RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('silver.instrument_hist: key (%s) has a version starting or '
                    'ending at %s, after the system time %s of this change',
                    concat_ws(', ', OLD."instrument_id"::text), OLD.sys_start, t),
                HINT = 'A concurrent transaction changed this key first: retry. If you set '
                    'medallion.system_time, a version cannot start before an existing one.';
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = format('silver.instrument_hist: the business key (%s) cannot be updated',
                concat_ws(', ', OLD."instrument_id"::text)),
            HINT = 'Delete the row and insert it under its new key.';
    END IF;
    IF OLD.sys_start = t
       AND current_setting('medallion.system_time_replay', true) IS DISTINCT FROM 'on' THEN
        IF medallion.written_by_this_transaction((SELECT h.xmin FROM "silver"."instrument_hist" AS h
                WHERE h."instrument_id" = OLD."instrument_id" AND h.sys_end = 'infinity')) IS NOT TRUE THEN
            RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('silver.instrument_hist: key (%s) has a version that another '
                    'transaction committed at this transaction''s system time %s',
                    concat_ws(', ', OLD."instrument_id"::text), t),
                HINT = 'Two transactions started in the same instant: retry, the retry runs at '
                    'a later time. Replays that mean to rewrite that time call '
                    'medallion.set_system_time() first.';
        END IF;
    END IF;
    NEW.sys_start := t;  -- unchanged on its own version
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."instrument_hist__after_update"() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := medallion.system_time();
BEGIN
    IF current_setting('medallion.allow_history_rewrite', true) = 'on' THEN
        IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = 'medallion.allow_history_rewrite is honoured for the table''s owner only';
        END IF;
        RETURN NULL;
    END IF;
    IF has_table_privilege('"silver"."instrument_hist_closed"', 'INSERT') THEN
        INSERT INTO "silver"."instrument_hist_closed" ("instrument_id", "symbol", "name", "price", sys_start, sys_end)
        SELECT o."instrument_id", o."symbol", o."name", o."price", o.sys_start, t
        FROM old_rows AS o
        WHERE o.sys_start < t;  -- versions opened at t (by this transaction or a replay): no trace
    ELSE
        PERFORM set_config('medallion.versioning_internal', 'on', true);
        INSERT INTO "silver"."instrument_hist" ("instrument_id", "symbol", "name", "price", sys_start, sys_end)
        SELECT o."instrument_id", o."symbol", o."name", o."price", o.sys_start, t
        FROM old_rows AS o
        WHERE o.sys_start < t;  -- versions opened at t (by this transaction or a replay): no trace
        PERFORM set_config('medallion.versioning_internal', '', true);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."instrument_hist__before_delete"() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := medallion.system_time();
BEGIN
    IF current_setting('medallion.allow_history_rewrite', true) = 'on' THEN
        IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = 'medallion.allow_history_rewrite is honoured for the table''s owner only';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.sys_end <> 'infinity' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = format('silver.instrument_hist: version of key (%s) valid from %s to %s '
                'is closed and cannot be changed', concat_ws(', ', OLD."instrument_id"::text),
                OLD.sys_start, OLD.sys_end),
            HINT = 'Change the current version (sys_end = ''infinity'') instead. Repairs need '
                'SET LOCAL medallion.allow_history_rewrite = on.';
    ELSIF OLD.sys_start > t THEN
        RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('silver.instrument_hist: key (%s) has a version starting or '
                    'ending at %s, after the system time %s of this change',
                    concat_ws(', ', OLD."instrument_id"::text), OLD.sys_start, t),
                HINT = 'A concurrent transaction changed this key first: retry. If you set '
                    'medallion.system_time, a version cannot start before an existing one.';
    END IF;
    IF OLD.sys_start = t
       AND current_setting('medallion.system_time_replay', true) IS DISTINCT FROM 'on' THEN
        IF medallion.written_by_this_transaction((SELECT h.xmin FROM "silver"."instrument_hist" AS h
                WHERE h."instrument_id" = OLD."instrument_id" AND h.sys_end = 'infinity')) IS NOT TRUE THEN
            RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('silver.instrument_hist: key (%s) has a version that another '
                    'transaction committed at this transaction''s system time %s',
                    concat_ws(', ', OLD."instrument_id"::text), t),
                HINT = 'Two transactions started in the same instant: retry, the retry runs at '
                    'a later time. Replays that mean to rewrite that time call '
                    'medallion.set_system_time() first.';
        END IF;
    END IF;
    RETURN OLD;
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."instrument_hist__after_delete"() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := medallion.system_time();
BEGIN
    IF current_setting('medallion.allow_history_rewrite', true) = 'on' THEN
        IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = 'medallion.allow_history_rewrite is honoured for the table''s owner only';
        END IF;
        RETURN NULL;
    END IF;
    IF has_table_privilege('"silver"."instrument_hist_closed"', 'INSERT') THEN
        INSERT INTO "silver"."instrument_hist_closed" ("instrument_id", "symbol", "name", "price", sys_start, sys_end)
        SELECT o."instrument_id", o."symbol", o."name", o."price", o.sys_start, t
        FROM old_rows AS o
        WHERE o.sys_start < t;  -- versions opened at t (by this transaction or a replay): no trace
    ELSE
        PERFORM set_config('medallion.versioning_internal', 'on', true);
        INSERT INTO "silver"."instrument_hist" ("instrument_id", "symbol", "name", "price", sys_start, sys_end)
        SELECT o."instrument_id", o."symbol", o."name", o."price", o.sys_start, t
        FROM old_rows AS o
        WHERE o.sys_start < t;  -- versions opened at t (by this transaction or a replay): no trace
        PERFORM set_config('medallion.versioning_internal', '', true);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."instrument_hist__after_insert"() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    t timestamptz := medallion.system_time();
    bad record;
BEGIN
    IF current_setting('medallion.allow_history_rewrite', true) = 'on' THEN
        IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = 'medallion.allow_history_rewrite is honoured for the table''s owner only';
        END IF;
        RETURN NULL;
    END IF;
    IF current_setting('medallion.versioning_internal', true) = 'on' THEN
        RETURN NULL;  -- closed versions written by the UPDATE/DELETE triggers
    END IF;
    IF current_setting('transaction_isolation') NOT IN ('read committed', 'read uncommitted')
    THEN
        RAISE EXCEPTION USING
            ERRCODE = 'feature_not_supported',
            MESSAGE = format('silver.instrument_hist: INSERT into a temporal table needs READ '
                'COMMITTED; this transaction is %s', current_setting('transaction_isolation')),
            HINT = 'Under a snapshot isolation a concurrent close of the same key would be '
                'invisible and versions could overlap. Insert in a READ COMMITTED transaction.';
    END IF;
    SELECT * INTO bad FROM new_rows AS n
    WHERE n.sys_start <> t OR n.sys_end <> 'infinity' LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'silver.instrument_hist: sys_start and sys_end are maintained by the '
                'framework',
            HINT = 'Leave them out of the INSERT; to write history as of another time, '
                'call medallion.set_system_time() first.';
    END IF;
    SELECT h.* INTO bad FROM new_rows AS n JOIN "silver"."instrument_hist" AS h ON h."instrument_id" = n."instrument_id"
    WHERE h.sys_end <> 'infinity' AND h.sys_end > t LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('silver.instrument_hist: key (%s) has a version starting or '
                    'ending at %s, after the system time %s of this change',
                    concat_ws(', ', bad."instrument_id"::text), bad.sys_end, t),
                HINT = 'A concurrent transaction changed this key first: retry. If you set '
                    'medallion.system_time, a version cannot start before an existing one.';
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."instrument_hist__refuse_truncate"() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('medallion.allow_history_rewrite', true) = 'on' THEN
        IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = 'medallion.allow_history_rewrite is honoured for the table''s owner only';
        END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'integrity_constraint_violation',
        MESSAGE = 'silver.instrument_hist is a temporal table: TRUNCATE would erase its history',
        HINT = 'If you mean it: BEGIN; SET LOCAL medallion.allow_history_rewrite = on; TRUNCATE ...; COMMIT;';
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."instrument__as_of"(at_time timestamptz)
RETURNS SETOF "silver"."instrument_hist"
LANGUAGE sql STABLE AS $fn$
    SELECT * FROM "silver"."instrument_hist" WHERE sys_start <= at_time AND sys_end > at_time
$fn$;

CREATE OR REPLACE FUNCTION "silver"."instrument__between"(
    from_time timestamptz, to_time timestamptz
)
RETURNS SETOF "silver"."instrument_hist"
LANGUAGE sql STABLE AS $fn$
    SELECT * FROM "silver"."instrument_hist" WHERE sys_start < to_time AND sys_end > from_time
$fn$;

CREATE TRIGGER versioning_a_skip_noop BEFORE UPDATE ON "silver"."instrument_hist" FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();

CREATE TRIGGER versioning_b_check_update BEFORE UPDATE ON "silver"."instrument_hist" FOR EACH ROW WHEN (OLD.sys_end <> 'infinity' OR NEW.sys_end <> 'infinity' OR NEW.sys_start IS DISTINCT FROM OLD.sys_start OR NEW."instrument_id" IS DISTINCT FROM OLD."instrument_id" OR OLD.sys_start >= coalesce(nullif(current_setting('medallion.system_time', true), '')::timestamptz, now()) OR current_setting('medallion.allow_history_rewrite', true) = 'on') EXECUTE FUNCTION "silver"."instrument_hist__before_update"();

CREATE TRIGGER versioning_c_stamp BEFORE UPDATE ON "silver"."instrument_hist" FOR EACH ROW WHEN (current_setting('medallion.allow_history_rewrite', true) IS DISTINCT FROM 'on' AND coalesce(current_setting('medallion.system_time', true), '') = '') EXECUTE FUNCTION medallion.stamp_version('sys_start');

CREATE TRIGGER versioning_c_stamp_at BEFORE UPDATE ON "silver"."instrument_hist" FOR EACH ROW WHEN (current_setting('medallion.allow_history_rewrite', true) IS DISTINCT FROM 'on' AND NOT coalesce(current_setting('medallion.system_time', true), '') = '') EXECUTE FUNCTION medallion.stamp_version_at();

CREATE TRIGGER versioning_after_update AFTER UPDATE ON "silver"."instrument_hist" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "silver"."instrument_hist__after_update"();

CREATE TRIGGER versioning_b_check_delete BEFORE DELETE ON "silver"."instrument_hist" FOR EACH ROW WHEN (OLD.sys_end <> 'infinity' OR OLD.sys_start >= coalesce(nullif(current_setting('medallion.system_time', true), '')::timestamptz, now()) OR current_setting('medallion.allow_history_rewrite', true) = 'on') EXECUTE FUNCTION "silver"."instrument_hist__before_delete"();

CREATE TRIGGER versioning_after_delete AFTER DELETE ON "silver"."instrument_hist" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "silver"."instrument_hist__after_delete"();

CREATE TRIGGER versioning_after_insert AFTER INSERT ON "silver"."instrument_hist" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "silver"."instrument_hist__after_insert"();

CREATE TRIGGER versioning_refuse_truncate BEFORE TRUNCATE ON "silver"."instrument_hist" FOR EACH STATEMENT EXECUTE FUNCTION "silver"."instrument_hist__refuse_truncate"();

CREATE TRIGGER versioning_after_update AFTER UPDATE ON "silver"."instrument_hist_current" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "silver"."instrument_hist__after_update"();

CREATE TRIGGER versioning_after_delete AFTER DELETE ON "silver"."instrument_hist_current" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "silver"."instrument_hist__after_delete"();

CREATE TRIGGER versioning_after_insert AFTER INSERT ON "silver"."instrument_hist_current" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "silver"."instrument_hist__after_insert"();

CREATE TRIGGER versioning_refuse_truncate BEFORE TRUNCATE ON "silver"."instrument_hist_current" FOR EACH STATEMENT EXECUTE FUNCTION "silver"."instrument_hist__refuse_truncate"();

CREATE TRIGGER versioning_refuse_truncate BEFORE TRUNCATE ON "silver"."instrument_hist_closed" FOR EACH STATEMENT EXECUTE FUNCTION "silver"."instrument_hist__refuse_truncate"();

CREATE OR REPLACE VIEW "silver"."instrument" AS
SELECT "instrument_id", "symbol", "name", "price", sys_start
FROM "silver"."instrument_hist_current";

