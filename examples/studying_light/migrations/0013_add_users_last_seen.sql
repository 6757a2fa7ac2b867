-- strata:up
ALTER TABLE users ADD COLUMN last_seen_at timestamp;

-- strata:down
ALTER TABLE users DROP COLUMN last_seen_at;
