-- Refunds become events too. ALTER TYPE ... ADD VALUE runs outside a
-- transaction (required before PostgreSQL 12, and a new value cannot be used in
-- the transaction that added it anyway). IF NOT EXISTS makes a rerun harmless.
-- On SQLite event_type is plain TEXT, so there is nothing to do.

-- strata:up no-transaction dialect=postgres
ALTER TYPE payment_event_type ADD VALUE IF NOT EXISTS 'refund_requested';
ALTER TYPE payment_event_type ADD VALUE IF NOT EXISTS 'refund_completed';

-- strata:up dialect=sqlite
-- event_type is TEXT on SQLite: nothing to add

-- strata:down
-- Intentionally empty: PostgreSQL cannot remove a value from an enum type
-- (there is no ALTER TYPE ... DROP VALUE). The extra values are harmless when
-- unused; they go away with the type itself when 0001 is reverted, and the
-- up's IF NOT EXISTS makes re-applying this migration a no-op.
