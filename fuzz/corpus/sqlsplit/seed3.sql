-- Read model: the current state of each authorization request, rebuilt from
-- payment_events. updated_at is maintained by a trigger on both engines.

-- strata:up dialect=postgres
CREATE TABLE auth_request_state (
    auth_request_id     uuid PRIMARY KEY,
    restaurant_id       uuid NOT NULL,
    payment_token       text NOT NULL,
    status              auth_status NOT NULL DEFAULT 'pending',
    amount_cents        bigint NOT NULL CHECK (amount_cents > 0),
    currency            char(3) NOT NULL DEFAULT 'USD',
    processor_name      text,
    processor_auth_id   text,
    decline_reason      text,
    metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
    last_event_sequence integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ix_auth_request_state_restaurant_created
    ON auth_request_state (restaurant_id, created_at DESC);

-- Shared by every table with an updated_at column (see 0005).
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER trg_auth_request_state_updated_at
    BEFORE UPDATE ON auth_request_state
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- strata:up dialect=sqlite
CREATE TABLE auth_request_state (
    auth_request_id     TEXT PRIMARY KEY NOT NULL,
    restaurant_id       TEXT NOT NULL,
    payment_token       TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'processing', 'authorized',
                                          'declined', 'failed', 'voided')),
    amount_cents        INTEGER NOT NULL CHECK (amount_cents > 0),
    currency            TEXT NOT NULL DEFAULT 'USD',
    processor_name      TEXT,
    processor_auth_id   TEXT,
    decline_reason      TEXT,
    metadata            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    last_event_sequence INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX ix_auth_request_state_restaurant_created
    ON auth_request_state (restaurant_id, created_at DESC);

-- SQLite triggers cannot assign NEW; update the row after the fact. The WHEN
-- clause leaves an explicit updated_at alone (and stops any recursion).
CREATE TRIGGER trg_auth_request_state_updated_at
AFTER UPDATE ON auth_request_state
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE auth_request_state
       SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
     WHERE auth_request_id = NEW.auth_request_id;
END;

-- strata:down dialect=postgres
DROP TRIGGER trg_auth_request_state_updated_at ON auth_request_state;
DROP FUNCTION set_updated_at();
DROP INDEX ix_auth_request_state_restaurant_created;
DROP TABLE auth_request_state;

-- strata:down dialect=sqlite
DROP TRIGGER trg_auth_request_state_updated_at;
DROP INDEX ix_auth_request_state_restaurant_created;
DROP TABLE auth_request_state;
