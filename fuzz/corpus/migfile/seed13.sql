-- Stock on hand per product, and an append-only ledger of every stock movement
-- (sale, purchase receipt, manual adjustment) that explains the number.

-- strata:up
CREATE TABLE inventory (
    product_id    integer PRIMARY KEY REFERENCES products (id),
    quantity      integer NOT NULL DEFAULT 0,
    reorder_level integer NOT NULL DEFAULT 0 CHECK (reorder_level >= 0),
    location      text,
    updated_at    timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE inventory_movements (
    id           integer PRIMARY KEY,
    product_id   integer NOT NULL REFERENCES products (id),
    change_qty   integer NOT NULL CHECK (change_qty <> 0),
    reason       text NOT NULL CHECK (reason IN ('sale', 'purchase', 'adjustment', 'return')),
    reference_id integer,
    note         text,
    created_at   timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX ix_inventory_movements_product_created
    ON inventory_movements (product_id, created_at);

-- strata:down
DROP INDEX ix_inventory_movements_product_created;
DROP TABLE inventory_movements;
DROP TABLE inventory;
