-- Seed data for local development: one test restaurant using Stripe.
-- The key is a placeholder, not a real secret. Plain SQL, so one generic
-- section serves both engines (PostgreSQL casts the literals to uuid and jsonb).

-- strata:up
INSERT INTO restaurant_payment_configs (restaurant_id, processor_name, processor_config)
VALUES (
    '00000000-0000-0000-0000-000000000001',
    'stripe',
    '{"api_key": "sk_test_placeholder_not_a_real_key", "statement_descriptor": "TEST RESTAURANT; DEV"}'
);

-- strata:down
DELETE FROM restaurant_payment_configs
 WHERE restaurant_id = '00000000-0000-0000-0000-000000000001';
