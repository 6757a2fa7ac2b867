-- Users of the study tracker (runbook: /work/shared/seeds, "studying_light").
-- strata:up
CREATE TABLE users (
    id integer PRIMARY KEY,
    email text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    is_admin boolean NOT NULL DEFAULT false,
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO users (id, email, password_hash, is_admin)
VALUES (1, 'admin@studying-light.example', 'pbkdf2_sha256$placeholder', true);

-- strata:down
DROP TABLE users;
