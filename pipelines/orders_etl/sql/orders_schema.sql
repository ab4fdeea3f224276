-- orders_etl's table (idempotent DDL; `dagstorm stack deploy orders_etl` runs it).
CREATE TABLE IF NOT EXISTS orders (
    order_id          text        NOT NULL,
    run_id            text        NOT NULL,
    customer_id       integer     NOT NULL,
    quantity          integer     NOT NULL,
    unit_price_cents  integer     NOT NULL,
    total_cents       bigint      NOT NULL,
    loaded_at         timestamptz NOT NULL DEFAULT now()
);
-- No unique key on purpose: a load that duplicated rows must show as duplicates.
CREATE INDEX IF NOT EXISTS orders_run_id ON orders (run_id);
