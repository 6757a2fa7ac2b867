-- Indexes for the end-of-day and monthly sales reports.
-- On a large PostgreSQL table you would build these CONCURRENTLY in a
-- no-transaction section (see examples/payments); this sample keeps plain,
-- portable CREATE INDEX so the same file runs on SQLite. A single store's
-- sales and payments are small enough that the write lock of a plain build
-- lasts a moment, so strata lint is told that this is deliberate:
-- strata:lint-ignore index-not-concurrent -- small tables, one portable file

-- strata:up
CREATE INDEX ix_sales_status_created ON sales (status, created_at);
CREATE INDEX ix_payments_method_received ON payments (method, received_at);

-- strata:down
DROP INDEX ix_payments_method_received;
DROP INDEX ix_sales_status_created;
