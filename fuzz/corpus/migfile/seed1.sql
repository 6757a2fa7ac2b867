-- Enum types for the payment event store (payment_events_db).
-- PostgreSQL gets real ENUM types. SQLite has none: the columns that use them
-- are TEXT there (with a CHECK where the value list never grows), so the SQLite
-- sections are explicit no-ops.

-- strata:up dialect=postgres
CREATE TYPE payment_event_type AS ENUM (
    'auth_requested',
    'auth_response_received',
    'auth_approved',
    'auth_declined',
    'auth_failed',
    'auth_voided'
);

CREATE TYPE auth_status AS ENUM (
    'pending',
    'processing',
    'authorized',
    'declined',
    'failed',
    'voided'
);

-- strata:up dialect=sqlite
-- no enum types on SQLite

-- strata:down dialect=postgres
DROP TYPE auth_status;
DROP TYPE payment_event_type;

-- strata:down dialect=sqlite
-- nothing to undo on SQLite
