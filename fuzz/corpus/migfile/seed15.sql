-- Lines of a sale. Price and tax are copied from the product at sale time so
-- later price changes do not rewrite old receipts.

-- strata:up
CREATE TABLE sale_items (
    id         integer PRIMARY KEY,
    sale_id    integer NOT NULL REFERENCES sales (id) ON DELETE CASCADE,
    product_id integer NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(12,2) NOT NULL,
    tax_rate   numeric(5,4) NOT NULL DEFAULT 0,
    discount   numeric(12,2) NOT NULL DEFAULT 0,
    line_total numeric(12,2) NOT NULL,
    UNIQUE (sale_id, product_id)
);

CREATE INDEX ix_sale_items_product_id ON sale_items (product_id);

-- strata:down
DROP INDEX ix_sale_items_product_id;
DROP TABLE sale_items;
