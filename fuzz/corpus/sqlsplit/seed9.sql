-- Staff accounts: cashiers, managers and administrators who sign in to the POS.
-- Portable SQL: this file runs unchanged on SQLite and PostgreSQL.
-- Keys are "integer PRIMARY KEY": on SQLite that is the rowid and fills itself;
-- on PostgreSQL the application (or a later dialect-specific migration) supplies ids.

-- strata:up
CREATE TABLE users (
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

-- strata:down
DROP TABLE users;
