-- Which processor each restaurant uses and its (non-secret) configuration.

-- strata:up dialect=postgres
CREATE TABLE restaurant_payment_configs (
    restaurant_id    uuid PRIMARY KEY,
    processor_name   text NOT NULL,
    processor_config jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_active        boolean NOT NULL DEFAULT true,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- set_updated_at() comes from 0003.
CREATE TRIGGER trg_restaurant_payment_configs_updated_at
    BEFORE UPDATE ON restaurant_payment_configs
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- strata:up dialect=sqlite
CREATE TABLE restaurant_payment_configs (
    restaurant_id    TEXT PRIMARY KEY NOT NULL,
    processor_name   TEXT NOT NULL,
    processor_config TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(processor_config)),
    is_active        INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TRIGGER trg_restaurant_payment_configs_updated_at
AFTER UPDATE ON restaurant_payment_configs
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE restaurant_payment_configs
       SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE restaurant_id = NEW.restaurant_id;
END;

-- strata:down dialect=postgres
DROP TRIGGER trg_restaurant_payment_configs_updated_at ON restaurant_payment_configs;
DROP TABLE restaurant_payment_configs;

-- strata:down dialect=sqlite
DROP TRIGGER trg_restaurant_payment_configs_updated_at;
DROP TABLE restaurant_payment_configs;
