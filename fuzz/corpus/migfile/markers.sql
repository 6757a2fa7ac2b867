-- strata:up no-transaction dialect=postgres
CREATE INDEX CONCURRENTLY i ON t (x);
-- strata:up dialect=sqlite
-- strata:down
DROP INDEX i;
-- strata:verify
SELECT 1;
