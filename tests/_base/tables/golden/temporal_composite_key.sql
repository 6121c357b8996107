CREATE TABLE silver.position_limit_hist (
	portfolio_code VARCHAR NOT NULL, 
	asset_class VARCHAR NOT NULL, 
	max_notional NUMERIC(18, 2) NOT NULL, 
	sys_start TIMESTAMP WITH TIME ZONE DEFAULT medallion.system_time() NOT NULL, 
	sys_end TIMESTAMP WITH TIME ZONE DEFAULT 'infinity' NOT NULL, 
	PRIMARY KEY (portfolio_code, asset_class, sys_start)
);

ALTER TABLE "silver"."position_limit_hist" ADD CONSTRAINT "position_limit_hist_period_check" CHECK (sys_start < sys_end);

CREATE UNIQUE INDEX "position_limit_hist_current_key" ON "silver"."position_limit_hist" ("portfolio_code", "asset_class") WHERE sys_end = 'infinity';

CREATE OR REPLACE FUNCTION "silver"."position_limit_hist__before_update"() RETURNS trigger
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
       OR NEW."portfolio_code" IS DISTINCT FROM OLD."portfolio_code" OR NEW."asset_class" IS DISTINCT FROM OLD."asset_class" THEN
        IF OLD.sys_end <> 'infinity' THEN
            RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = format('silver.position_limit_hist: version of key (%s) valid from %s to %s '
                'is closed and cannot be changed', concat_ws(', ', OLD."portfolio_code"::text, OLD."asset_class"::text),
                OLD.sys_start, OLD.sys_end),
            HINT = 'Change the current version (sys_end = ''infinity'') instead. Repairs need '
                'SET LOCAL medallion.allow_history_rewrite = on.';
        ELSIF NEW.sys_end <> 'infinity' OR NEW.sys_start IS DISTINCT FROM OLD.sys_start THEN
            RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'silver.position_limit_hist: sys_start and sys_end are maintained by the '
                'framework',
            HINT = 'Leave them out of the UPDATE; to write history as of another time, '
                'call medallion.set_system_time() first.';
        ELSIF OLD.sys_start > t THEN
            RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('silver.position_limit_hist: key (%s) has a version starting or '
                    'ending at %s, after the system time %s of this change',
                    concat_ws(', ', OLD."portfolio_code"::text, OLD."asset_class"::text), OLD.sys_start, t),
                HINT = 'A concurrent transaction changed this key first: retry. If you set '
                    'medallion.system_time, a version cannot start before an existing one.';
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = format('silver.position_limit_hist: the business key (%s) cannot be updated',
                concat_ws(', ', OLD."portfolio_code"::text, OLD."asset_class"::text)),
            HINT = 'Delete the row and insert it under its new key.';
    END IF;
    IF OLD.sys_start = t
       AND current_setting('medallion.system_time_replay', true) IS DISTINCT FROM 'on' THEN
        IF medallion.written_by_this_transaction((SELECT h.xmin FROM "silver"."position_limit_hist" AS h
                WHERE h."portfolio_code" = OLD."portfolio_code" AND h."asset_class" = OLD."asset_class" AND h.sys_end = 'infinity')) IS NOT TRUE THEN
            RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('silver.position_limit_hist: key (%s) has a version that another '
                    'transaction committed at this transaction''s system time %s',
                    concat_ws(', ', OLD."portfolio_code"::text, OLD."asset_class"::text), t),
                HINT = 'Two transactions started in the same instant: retry, the retry runs at '
                    'a later time. Replays that mean to rewrite that time call '
                    'medallion.set_system_time() first.';
        END IF;
    END IF;
    NEW.sys_start := t;  -- unchanged on its own version
    RETURN NEW;
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."position_limit_hist__after_update"() RETURNS trigger
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
    PERFORM set_config('medallion.versioning_internal', 'on', true);
    INSERT INTO "silver"."position_limit_hist" ("portfolio_code", "asset_class", "max_notional", sys_start, sys_end)
    SELECT o."portfolio_code", o."asset_class", o."max_notional", o.sys_start, t
    FROM old_rows AS o
    WHERE o.sys_start < t;  -- versions opened at t (by this transaction or a replay): no trace
    PERFORM set_config('medallion.versioning_internal', '', true);
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."position_limit_hist__before_delete"() RETURNS trigger
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
            MESSAGE = format('silver.position_limit_hist: version of key (%s) valid from %s to %s '
                'is closed and cannot be changed', concat_ws(', ', OLD."portfolio_code"::text, OLD."asset_class"::text),
                OLD.sys_start, OLD.sys_end),
            HINT = 'Change the current version (sys_end = ''infinity'') instead. Repairs need '
                'SET LOCAL medallion.allow_history_rewrite = on.';
    ELSIF OLD.sys_start > t THEN
        RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('silver.position_limit_hist: key (%s) has a version starting or '
                    'ending at %s, after the system time %s of this change',
                    concat_ws(', ', OLD."portfolio_code"::text, OLD."asset_class"::text), OLD.sys_start, t),
                HINT = 'A concurrent transaction changed this key first: retry. If you set '
                    'medallion.system_time, a version cannot start before an existing one.';
    END IF;
    IF OLD.sys_start = t
       AND current_setting('medallion.system_time_replay', true) IS DISTINCT FROM 'on' THEN
        IF medallion.written_by_this_transaction((SELECT h.xmin FROM "silver"."position_limit_hist" AS h
                WHERE h."portfolio_code" = OLD."portfolio_code" AND h."asset_class" = OLD."asset_class" AND h.sys_end = 'infinity')) IS NOT TRUE THEN
            RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('silver.position_limit_hist: key (%s) has a version that another '
                    'transaction committed at this transaction''s system time %s',
                    concat_ws(', ', OLD."portfolio_code"::text, OLD."asset_class"::text), t),
                HINT = 'Two transactions started in the same instant: retry, the retry runs at '
                    'a later time. Replays that mean to rewrite that time call '
                    'medallion.set_system_time() first.';
        END IF;
    END IF;
    RETURN OLD;
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."position_limit_hist__after_delete"() RETURNS trigger
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
    PERFORM set_config('medallion.versioning_internal', 'on', true);
    INSERT INTO "silver"."position_limit_hist" ("portfolio_code", "asset_class", "max_notional", sys_start, sys_end)
    SELECT o."portfolio_code", o."asset_class", o."max_notional", o.sys_start, t
    FROM old_rows AS o
    WHERE o.sys_start < t;  -- versions opened at t (by this transaction or a replay): no trace
    PERFORM set_config('medallion.versioning_internal', '', true);
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."position_limit_hist__after_insert"() RETURNS trigger
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
            MESSAGE = format('silver.position_limit_hist: INSERT into a temporal table needs READ '
                'COMMITTED; this transaction is %s', current_setting('transaction_isolation')),
            HINT = 'Under a snapshot isolation a concurrent close of the same key would be '
                'invisible and versions could overlap. Insert in a READ COMMITTED transaction.';
    END IF;
    SELECT * INTO bad FROM new_rows AS n
    WHERE n.sys_start <> t OR n.sys_end <> 'infinity' LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'integrity_constraint_violation',
            MESSAGE = 'silver.position_limit_hist: sys_start and sys_end are maintained by the '
                'framework',
            HINT = 'Leave them out of the INSERT; to write history as of another time, '
                'call medallion.set_system_time() first.';
    END IF;
    SELECT h.* INTO bad FROM new_rows AS n JOIN "silver"."position_limit_hist" AS h ON h."portfolio_code" = n."portfolio_code" AND h."asset_class" = n."asset_class"
    WHERE h.sys_end <> 'infinity' AND h.sys_end > t LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
                ERRCODE = 'serialization_failure',
                MESSAGE = format('silver.position_limit_hist: key (%s) has a version starting or '
                    'ending at %s, after the system time %s of this change',
                    concat_ws(', ', bad."portfolio_code"::text, bad."asset_class"::text), bad.sys_end, t),
                HINT = 'A concurrent transaction changed this key first: retry. If you set '
                    'medallion.system_time, a version cannot start before an existing one.';
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."position_limit_hist__refuse_truncate"() RETURNS trigger
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
        MESSAGE = 'silver.position_limit_hist is a temporal table: TRUNCATE would erase its history',
        HINT = 'If you mean it: BEGIN; SET LOCAL medallion.allow_history_rewrite = on; TRUNCATE ...; COMMIT;';
END
$fn$;

CREATE OR REPLACE FUNCTION "silver"."position_limit__as_of"(at_time timestamptz)
RETURNS SETOF "silver"."position_limit_hist"
LANGUAGE sql STABLE AS $fn$
    SELECT * FROM "silver"."position_limit_hist" WHERE sys_start <= at_time AND sys_end > at_time
$fn$;

CREATE OR REPLACE FUNCTION "silver"."position_limit__between"(
    from_time timestamptz, to_time timestamptz
)
RETURNS SETOF "silver"."position_limit_hist"
LANGUAGE sql STABLE AS $fn$
    SELECT * FROM "silver"."position_limit_hist" WHERE sys_start < to_time AND sys_end > from_time
$fn$;

CREATE TRIGGER versioning_a_skip_noop BEFORE UPDATE ON "silver"."position_limit_hist" FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();

CREATE TRIGGER versioning_b_check_update BEFORE UPDATE ON "silver"."position_limit_hist" FOR EACH ROW WHEN (OLD.sys_end <> 'infinity' OR NEW.sys_end <> 'infinity' OR NEW.sys_start IS DISTINCT FROM OLD.sys_start OR NEW."portfolio_code" IS DISTINCT FROM OLD."portfolio_code" OR NEW."asset_class" IS DISTINCT FROM OLD."asset_class" OR OLD.sys_start >= coalesce(nullif(current_setting('medallion.system_time', true), '')::timestamptz, now()) OR current_setting('medallion.allow_history_rewrite', true) = 'on') EXECUTE FUNCTION "silver"."position_limit_hist__before_update"();

CREATE TRIGGER versioning_c_stamp BEFORE UPDATE ON "silver"."position_limit_hist" FOR EACH ROW WHEN (current_setting('medallion.allow_history_rewrite', true) IS DISTINCT FROM 'on' AND coalesce(current_setting('medallion.system_time', true), '') = '') EXECUTE FUNCTION medallion.stamp_version('sys_start');

CREATE TRIGGER versioning_c_stamp_at BEFORE UPDATE ON "silver"."position_limit_hist" FOR EACH ROW WHEN (current_setting('medallion.allow_history_rewrite', true) IS DISTINCT FROM 'on' AND NOT coalesce(current_setting('medallion.system_time', true), '') = '') EXECUTE FUNCTION medallion.stamp_version_at();

CREATE TRIGGER versioning_after_update AFTER UPDATE ON "silver"."position_limit_hist" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "silver"."position_limit_hist__after_update"();

CREATE TRIGGER versioning_b_check_delete BEFORE DELETE ON "silver"."position_limit_hist" FOR EACH ROW WHEN (OLD.sys_end <> 'infinity' OR OLD.sys_start >= coalesce(nullif(current_setting('medallion.system_time', true), '')::timestamptz, now()) OR current_setting('medallion.allow_history_rewrite', true) = 'on') EXECUTE FUNCTION "silver"."position_limit_hist__before_delete"();

CREATE TRIGGER versioning_after_delete AFTER DELETE ON "silver"."position_limit_hist" REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "silver"."position_limit_hist__after_delete"();

CREATE TRIGGER versioning_after_insert AFTER INSERT ON "silver"."position_limit_hist" REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "silver"."position_limit_hist__after_insert"();

CREATE TRIGGER versioning_refuse_truncate BEFORE TRUNCATE ON "silver"."position_limit_hist" FOR EACH STATEMENT EXECUTE FUNCTION "silver"."position_limit_hist__refuse_truncate"();

CREATE OR REPLACE VIEW "silver"."position_limit" AS
SELECT "portfolio_code", "asset_class", "max_notional", sys_start
FROM "silver"."position_limit_hist"
WHERE sys_end = 'infinity';

