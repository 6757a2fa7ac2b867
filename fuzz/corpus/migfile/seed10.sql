-- Customers who can be attached to a sale (walk-in sales have no customer).

-- strata:up
CREATE TABLE customers (
    id         integer PRIMARY KEY,
    first_name text NOT NULL,
    last_name  text NOT NULL,
    email      text UNIQUE,
    phone      text,
    notes      text,
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX ix_customers_last_name ON customers (last_name, first_name);
CREATE INDEX ix_customers_phone ON customers (phone);

-- strata:down
DROP INDEX ix_customers_phone;
DROP INDEX ix_customers_last_name;
DROP TABLE customers;
