-- Product categories, optionally nested one level under a parent category.

-- strata:up
CREATE TABLE categories (
    id          integer PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    parent_id   integer REFERENCES categories (id),
    description text,
    created_at  timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- strata:down
DROP TABLE categories;
