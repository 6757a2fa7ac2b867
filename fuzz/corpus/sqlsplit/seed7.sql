-- Dashboard query: a restaurant's events, newest first. payment_events is big
-- and always being written to, so on PostgreSQL the index is built CONCURRENTLY,
-- which cannot run inside a transaction: hence no-transaction. IF NOT EXISTS
-- makes a rerun safe after an interrupted build (drop an INVALID leftover first).
-- SQLite has no concurrent builds and takes a plain CREATE INDEX in a transaction.

-- strata:up no-transaction dialect=postgres
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_payment_events_restaurant_created
    ON payment_events (restaurant_id, created_at DESC);

-- strata:up dialect=sqlite
CREATE INDEX IF NOT EXISTS ix_payment_events_restaurant_created
    ON payment_events (restaurant_id, created_at DESC);

-- strata:down no-transaction dialect=postgres
DROP INDEX CONCURRENTLY IF EXISTS ix_payment_events_restaurant_created;

-- strata:down dialect=sqlite
DROP INDEX IF EXISTS ix_payment_events_restaurant_created;
