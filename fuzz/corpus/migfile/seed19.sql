-- Purchasing: suppliers, purchase orders and their lines. Receiving a purchase
-- order line adds stock (an inventory_movements row with reason 'purchase').

-- strata:up
CREATE TABLE suppliers (
    id           integer PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    contact_name text,
    email        text,
    phone        text,
    created_at   timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE purchases (
    id          integer PRIMARY KEY,
    supplier_id integer NOT NULL REFERENCES suppliers (id),
    created_by  integer REFERENCES users (id),
    reference   text NOT NULL UNIQUE,
    status      text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'ordered', 'received', 'cancelled')),
    total_cost  numeric(12,2) NOT NULL DEFAULT 0,
    ordered_at  timestamp,
    received_at timestamp,
    created_at  timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE purchase_items (
    id           integer PRIMARY KEY,
    purchase_id  integer NOT NULL REFERENCES purchases (id) ON DELETE CASCADE,
    product_id   integer NOT NULL REFERENCES products (id),
    quantity     integer NOT NULL CHECK (quantity > 0),
    unit_cost    numeric(12,2) NOT NULL CHECK (unit_cost >= 0),
    received_qty integer NOT NULL DEFAULT 0,
    UNIQUE (purchase_id, product_id)
);

CREATE INDEX ix_purchases_supplier_id ON purchases (supplier_id);
CREATE INDEX ix_purchase_items_product_id ON purchase_items (product_id);

-- strata:down
DROP INDEX ix_purchase_items_product_id;
DROP INDEX ix_purchases_supplier_id;
DROP TABLE purchase_items;
DROP TABLE purchases;
DROP TABLE suppliers;
