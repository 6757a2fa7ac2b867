-- Tenders taken against a sale; a sale may be split across several payments
-- (cash plus card, gift card plus cash).

-- strata:up
CREATE TABLE payments (
    id          integer PRIMARY KEY,
    sale_id     integer NOT NULL REFERENCES sales (id) ON DELETE CASCADE,
    method      text NOT NULL CHECK (method IN ('cash', 'card', 'gift_card', 'store_credit')),
    amount      numeric(12,2) NOT NULL CHECK (amount > 0),
    change_due  numeric(12,2) NOT NULL DEFAULT 0,
    reference   text,
    status      text NOT NULL DEFAULT 'captured'
                CHECK (status IN ('pending', 'captured', 'refunded', 'failed')),
    received_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX ix_payments_sale_id ON payments (sale_id);

-- strata:down
DROP INDEX ix_payments_sale_id;
DROP TABLE payments;
