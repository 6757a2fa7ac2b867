-- The backfill regression test of migration 0014 (runbook "pg-smoke-admin"):
-- at 0013 insert a legacy password_reset_requests row, upgrade to head, and
-- check that requested_at is backfilled from created_at and that the foreign
-- key on processed_by_admin_id exists.

-- strata:at 0013
INSERT INTO users (id, email, password_hash) VALUES (2, 'student@example.com', 'x');
INSERT INTO password_reset_requests (id, user_id, created_at)
VALUES (10, 2, '2026-01-02 03:04:05');

-- strata:up head

-- strata:expect
SELECT requested_at = created_at FROM password_reset_requests WHERE id = 10;
SELECT count(*) = 0 FROM password_reset_requests WHERE requested_at IS NULL;

-- strata:expect dialect=postgres
SELECT count(*) = 1
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
WHERE c.contype = 'f'
  AND c.conrelid = 'password_reset_requests'::regclass
  AND c.confrelid = 'users'::regclass
  AND a.attname = 'processed_by_admin_id';

-- strata:expect dialect=sqlite
SELECT count(*) = 1 FROM pragma_foreign_key_list('password_reset_requests')
WHERE "from" = 'processed_by_admin_id' AND "table" = 'users';

-- and back: 0014's down removes what it added, the legacy row survives
-- strata:down 0013
-- strata:expect
SELECT count(*) = 1 FROM password_reset_requests WHERE id = 10;
