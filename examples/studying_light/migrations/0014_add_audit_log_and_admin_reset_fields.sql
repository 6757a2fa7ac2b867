-- The admin reset flow: an audit log, and reset requests that record when
-- they were requested (backfilled from created_at) and which admin processed
-- them. tests/0014_backfill_requested_at.sql checks the backfill.
-- strata:up
CREATE TABLE audit_log (
    id integer PRIMARY KEY,
    actor_id integer REFERENCES users (id),
    action text NOT NULL,
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
ALTER TABLE password_reset_requests ADD COLUMN requested_at timestamp;
-- strata:lint-ignore foreign-key-without-not-valid -- a new column: every row is NULL, and both tables are small
ALTER TABLE password_reset_requests ADD COLUMN processed_by_admin_id integer REFERENCES users (id);
UPDATE password_reset_requests SET requested_at = created_at WHERE requested_at IS NULL;

-- strata:verify
SELECT count(*) = 0 FROM password_reset_requests WHERE requested_at IS NULL;

-- strata:down
ALTER TABLE password_reset_requests DROP COLUMN processed_by_admin_id;
ALTER TABLE password_reset_requests DROP COLUMN requested_at;
DROP TABLE audit_log;
