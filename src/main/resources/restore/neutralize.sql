-- What the courier runs in a restored test database (aim test, never production) that the platform did not neutralize
-- (its ir_config_parameter database.is_neutralized is not true): a test database must not reach the world. As Odoo's own
-- neutralization does for these: scheduled actions off, outgoing and incoming mail servers off, and the flag set.
DO $$
BEGIN
    IF to_regclass('ir_cron') IS NOT NULL THEN
        UPDATE ir_cron SET active = false;
    END IF;
    IF to_regclass('ir_mail_server') IS NOT NULL THEN
        UPDATE ir_mail_server SET active = false;
    END IF;
    IF to_regclass('fetchmail_server') IS NOT NULL THEN
        UPDATE fetchmail_server SET active = false;
    END IF;
    UPDATE ir_config_parameter SET value = 'True' WHERE key = 'database.is_neutralized';
    IF NOT FOUND THEN
        INSERT INTO ir_config_parameter (key, value) VALUES ('database.is_neutralized', 'True');
    END IF;
END
$$;
