-- The catalogue. The SKU is what the barcode scanner sends, so it is unique.

-- strata:up
CREATE TABLE products (
    id          integer PRIMARY KEY,
    sku         text NOT NULL UNIQUE,
    barcode     text,
    name        text NOT NULL,
    description text,
    category_id integer REFERENCES categories (id),
    unit_price  numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    cost_price  numeric(12,2) CHECK (cost_price >= 0),
    tax_rate    numeric(5,4) NOT NULL DEFAULT 0,
    is_active   boolean NOT NULL DEFAULT TRUE,
    created_at  timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX ix_products_category_id ON products (category_id);
CREATE INDEX ix_products_barcode ON products (barcode);
CREATE INDEX ix_products_name ON products (name);

-- strata:down
DROP INDEX ix_products_name;
DROP INDEX ix_products_barcode;
DROP INDEX ix_products_category_id;
DROP TABLE products;
