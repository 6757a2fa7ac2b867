-- The event store: one row per event, append-only. Rows are never updated or
-- deleted; a trigger enforces it on both engines. The JSONB payload gets a GIN
-- index on PostgreSQL for containment queries (payload @> '{"processor": "stripe"}').

-- strata:up dialect=postgres
CREATE TABLE payment_events (
    event_id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    aggregate_id    uuid NOT NULL,
    sequence_number integer NOT NULL CHECK (sequence_number > 0),
    event_type      payment_event_type NOT NULL,
    restaurant_id   uuid NOT NULL,
    payload         jsonb NOT NULL,
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uq_payment_events_aggregate_sequence UNIQUE (aggregate_id, sequence_number)
);

CREATE INDEX ix_payment_events_payload ON payment_events USING GIN (payload jsonb_path_ops);

CREATE FUNCTION payment_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Corrections are new events; history is never rewritten.
    RAISE EXCEPTION 'payment_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation';
    RETURN NULL;
END;
$$;

CREATE TRIGGER trg_payment_events_append_only
    BEFORE UPDATE OR DELETE ON payment_events
    FOR EACH ROW EXECUTE FUNCTION payment_events_append_only();

-- strata:up dialect=sqlite
-- uuid -> TEXT (the application supplies event_id), jsonb -> TEXT checked with
-- json_valid(), timestamptz -> ISO-8601 text in UTC. No GIN on SQLite: the
-- payload index is simply left out.
CREATE TABLE payment_events (
    event_id        TEXT PRIMARY KEY NOT NULL,
    aggregate_id    TEXT NOT NULL,
    sequence_number INTEGER NOT NULL CHECK (sequence_number > 0),
    event_type      TEXT NOT NULL,
    restaurant_id   TEXT NOT NULL,
    payload         TEXT NOT NULL CHECK (json_valid(payload)),
    metadata        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT uq_payment_events_aggregate_sequence UNIQUE (aggregate_id, sequence_number)
);

CREATE TRIGGER trg_payment_events_no_update
BEFORE UPDATE ON payment_events
BEGIN
    SELECT RAISE(ABORT, 'payment_events is append-only: UPDATE is not allowed');
END;

CREATE TRIGGER trg_payment_events_no_delete
BEFORE DELETE ON payment_events
BEGIN
    SELECT RAISE(ABORT, 'payment_events is append-only: DELETE is not allowed');
END;

-- strata:down dialect=postgres
DROP TRIGGER trg_payment_events_append_only ON payment_events;
DROP FUNCTION payment_events_append_only();
DROP INDEX ix_payment_events_payload;
DROP TABLE payment_events;

-- strata:down dialect=sqlite
DROP TRIGGER trg_payment_events_no_delete;
DROP TRIGGER trg_payment_events_no_update;
DROP TABLE payment_events;
