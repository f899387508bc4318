-- What the courier runs in a restored test database (aim test, never production) that the platform did not neutralize
-- (its ir_config_parameter database.is_neutralized is not true): a test database must not reach the world. Run as the
-- restore's own role, its settings and the database's reset and search_path set to public first; every name is
-- schema-qualified (public, where Odoo's tables are), so an archive's decoy tables elsewhere change nothing. As Odoo's own neutralization does for these: scheduled actions off, outgoing and incoming mail
-- servers off, payment providers that take real payments disabled, shipping carriers off their production accounts;
-- each checked after (a rule or trigger of the archive's that kept one on fails the restore), then the flag set.
-- Odoo's own neutralization (odoo-bin neutralize) does more, module by module.
DO $$
DECLARE
    s record;
    still integer;
BEGIN
    FOR s IN SELECT * FROM (VALUES
            ('ir_cron', 'active', 'active = false', 'active', 'scheduled action(s) stay active (a rule or trigger on ir_cron)'),
            ('ir_mail_server', 'active', 'active = false', 'active', 'outgoing mail server(s) stay active'),
            ('fetchmail_server', 'active', 'active = false', 'active', 'incoming mail server(s) stay active'),
            ('payment_provider', 'state', 'state = ''disabled''', 'state = ''enabled''', 'payment provider(s) stay enabled'),
            ('delivery_carrier', 'prod_environment', 'prod_environment = false', 'prod_environment',
                'shipping carrier(s) stay on production accounts')
        ) AS v(tbl, col, turned_off, still_on, what)
    LOOP
        CONTINUE WHEN to_regclass('public.' || quote_ident(s.tbl)) IS NULL OR NOT EXISTS (SELECT 1 FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = s.tbl AND column_name = s.col);
        -- the table itself, not a view of the archive's that only looks like one
        IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = to_regclass('public.' || quote_ident(s.tbl))) NOT IN ('r', 'p') THEN
            RAISE EXCEPTION 'the test database cannot be neutralized: % is not a table', s.tbl;
        END IF;
        EXECUTE format('UPDATE public.%I SET %s WHERE %s', s.tbl, s.turned_off, s.still_on);
        EXECUTE format('SELECT count(*) FROM public.%I WHERE %s', s.tbl, s.still_on) INTO still;
        IF still > 0 THEN
            RAISE EXCEPTION 'the test database cannot be neutralized: % %', still, s.what;
        END IF;
    END LOOP;
    UPDATE public.ir_config_parameter SET value = 'True' WHERE key = 'database.is_neutralized';
    IF NOT FOUND THEN
        INSERT INTO public.ir_config_parameter (key, value) VALUES ('database.is_neutralized', 'True');
    END IF;
END
$$;
