-- strata:up
CREATE TABLE password_reset_requests (
    id integer PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id),
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX password_reset_requests_user_id_idx ON password_reset_requests (user_id);

-- strata:down
DROP TABLE password_reset_requests;
