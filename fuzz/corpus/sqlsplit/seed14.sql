-- A sale (ticket) rung up by a cashier, optionally for a known customer.

-- strata:up
CREATE TABLE sales (
    id             integer PRIMARY KEY,
    receipt_number text NOT NULL UNIQUE,
    customer_id    integer REFERENCES customers (id),
    cashier_id     integer NOT NULL REFERENCES users (id),
    status         text NOT NULL DEFAULT 'open'
                   CHECK (status IN ('open', 'completed', 'voided', 'refunded')),
    subtotal       numeric(12,2) NOT NULL DEFAULT 0,
    tax_total      numeric(12,2) NOT NULL DEFAULT 0,
    discount_total numeric(12,2) NOT NULL DEFAULT 0,
    total          numeric(12,2) NOT NULL DEFAULT 0,
    created_at     timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    completed_at   timestamp
);

CREATE INDEX ix_sales_customer_id ON sales (customer_id);
CREATE INDEX ix_sales_cashier_id ON sales (cashier_id);

-- strata:down
DROP INDEX ix_sales_cashier_id;
DROP INDEX ix_sales_customer_id;
DROP TABLE sales;
