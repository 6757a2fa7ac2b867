-- The first administrator, so a fresh install can sign in and create staff.
-- The hash below is a placeholder bcrypt-shaped string, not a real password:
-- nobody can sign in with it until the password is reset. Rotate it on first
-- deployment.
--
-- users is created by 0001; CREATE TABLE IF NOT EXISTS keeps this migration
-- working on databases where the application created users itself (it is a
-- no-op in this history, so the down leaves the table alone). Likewise the
-- INSERT skips an admin that already exists; in this history it never does,
-- so deleting the row is the exact inverse.

-- strata:up
CREATE TABLE IF NOT EXISTS users (
    id            integer PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    full_name     text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'cashier'
                  CHECK (role IN ('admin', 'manager', 'cashier')),
    is_active     boolean NOT NULL DEFAULT TRUE,
    created_at    timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Ids are not generated on PostgreSQL for "integer PRIMARY KEY", so pick the
-- next one explicitly (the same statement works on both engines).
INSERT INTO users (id, email, full_name, password_hash, role, is_active)
SELECT COALESCE(MAX(id), 0) + 1,
       'admin@retailpos.com',
       'Store Administrator',
       '$2b$12$PLACEHOLDERxNOTxAxREALxHASHxRESETxONxFIRSTxLOGINxxx',
       'admin',
       TRUE
FROM users
WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = 'admin@retailpos.com');

-- strata:verify
SELECT count(*) = 1 FROM users WHERE email = 'admin@retailpos.com' AND role = 'admin';

-- strata:down
DELETE FROM users WHERE email = 'admin@retailpos.com';
