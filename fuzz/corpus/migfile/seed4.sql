-- Transactional outbox (written in the same transaction as the events, relayed
-- to the queue later), request idempotency keys, and the workers' processing
-- locks.
-- SQLite ids are INTEGER PRIMARY KEY (the rowid) without AUTOINCREMENT, which
-- would leave an undroppable sqlite_sequence table behind after a full down.

-- strata:up dialect=postgres
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    aggregate_id  uuid NOT NULL,
    message_type  text NOT NULL,
    payload       jsonb NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz
);

CREATE INDEX ix_outbox_unprocessed ON outbox (created_at) WHERE processed_at IS NULL;

CREATE TABLE auth_idempotency_keys (
    restaurant_id   uuid NOT NULL,
    idempotency_key text NOT NULL,
    auth_request_id uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL DEFAULT now() + interval '24 hours',
    PRIMARY KEY (restaurant_id, idempotency_key)
);

CREATE INDEX ix_auth_idempotency_keys_expires ON auth_idempotency_keys (expires_at);

CREATE TABLE auth_processing_locks (
    auth_request_id uuid PRIMARY KEY,
    worker_id       text NOT NULL,
    locked_at       timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL
);

-- strata:up dialect=sqlite
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    aggregate_id  TEXT NOT NULL,
    message_type  TEXT NOT NULL,
    payload       TEXT NOT NULL CHECK (json_valid(payload)),
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    processed_at  TEXT
);

CREATE INDEX ix_outbox_unprocessed ON outbox (created_at) WHERE processed_at IS NULL;

CREATE TABLE auth_idempotency_keys (
    restaurant_id   TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    auth_request_id TEXT NOT NULL,
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+24 hours')),
    PRIMARY KEY (restaurant_id, idempotency_key)
);

CREATE INDEX ix_auth_idempotency_keys_expires ON auth_idempotency_keys (expires_at);

CREATE TABLE auth_processing_locks (
    auth_request_id TEXT PRIMARY KEY NOT NULL,
    worker_id       TEXT NOT NULL,
    locked_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at      TEXT NOT NULL
);

-- strata:down
-- The same on both engines (dropping a table drops its indexes too; they are
-- named here so the down reads as the mirror of the up).
DROP TABLE auth_processing_locks;
DROP INDEX ix_auth_idempotency_keys_expires;
DROP TABLE auth_idempotency_keys;
DROP INDEX ix_outbox_unprocessed;
DROP TABLE outbox;
