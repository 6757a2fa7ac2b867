-- Loyalty programme: points balance per customer.
-- ALTER TABLE ... DROP COLUMN needs SQLite 3.35 or newer.

-- strata:up
ALTER TABLE customers ADD COLUMN loyalty_points integer NOT NULL DEFAULT 0;

-- strata:down
ALTER TABLE customers DROP COLUMN loyalty_points;
