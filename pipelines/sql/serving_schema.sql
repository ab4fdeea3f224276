-- Serving schema of the reference ad pipeline (database ad_serving, role serving).
-- Applied by dagstorm's deploy step (dagstorm/stack/deploy.py); every statement is
-- idempotent. Documented in docs/pipeline.md, "Serving schema".

-- Layout before partition_hour existed (never released): drop it, it held test data only.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'ad_stats_hourly')
       AND NOT EXISTS (SELECT 1 FROM information_schema.columns
                       WHERE table_name = 'ad_stats_hourly' AND column_name = 'partition_hour')
    THEN
        DROP VIEW IF EXISTS ad_stats_by_hour;
        DROP TABLE ad_stats_hourly;
        DROP TABLE IF EXISTS ad_partition_loads;
    END IF;
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_name = 'ad_partition_loads' AND column_name = 'partition_hour')
    THEN
        ALTER TABLE ad_partition_loads RENAME COLUMN partition_hour TO hour;
    END IF;
END
$$;

-- ad_logs_hourly: one row per (landing partition, event hour, campaign, ad). A
-- partition's late events give rows for earlier event hours. A load deletes the
-- partition and inserts it again in one transaction; hour totals sum over partitions
-- (view ad_stats_by_hour).
CREATE TABLE IF NOT EXISTS ad_stats_hourly (
    partition_hour      timestamptz   NOT NULL,
    hour                timestamptz   NOT NULL,
    campaign_id         text          NOT NULL,
    ad_id               text          NOT NULL,
    impressions         bigint        NOT NULL CHECK (impressions >= 0),
    clicks              bigint        NOT NULL CHECK (clicks >= 0),
    conversions         bigint        NOT NULL CHECK (conversions >= 0),
    spend               numeric(28,6) NOT NULL CHECK (spend >= 0),
    approx_unique_users bigint        NOT NULL CHECK (approx_unique_users >= 0),
    run_id              text          NOT NULL,
    loaded_at           timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (partition_hour, hour, campaign_id, ad_id)
);
CREATE INDEX IF NOT EXISTS ad_stats_hourly_hour ON ad_stats_hourly (hour);

-- One row per loaded landing partition (hour = the partition's hour): what the job
-- saw and what was loaded. dagstorm's serving snapshot reads it (partition_loads.parquet).
CREATE TABLE IF NOT EXISTS ad_partition_loads (
    hour              timestamptz   PRIMARY KEY,
    run_id            text          NOT NULL,
    input_records     bigint        NOT NULL,
    bad_records       bigint        NOT NULL,
    valid_records     bigint        NOT NULL,
    duplicate_records bigint        NOT NULL,
    rows              bigint        NOT NULL,
    impressions       bigint        NOT NULL,
    clicks            bigint        NOT NULL,
    conversions       bigint        NOT NULL,
    spend             numeric(28,6) NOT NULL,
    landed_at         timestamptz,
    loaded_at         timestamptz   NOT NULL DEFAULT now()
);

-- Hourly stats from the landing zone, summed over the partitions that carried them.
-- approx_unique_users_max is a lower bound when an hour spans several partitions.
CREATE OR REPLACE VIEW ad_stats_by_hour AS
SELECT hour,
       campaign_id,
       ad_id,
       sum(impressions)::bigint         AS impressions,
       sum(clicks)::bigint              AS clicks,
       sum(conversions)::bigint         AS conversions,
       sum(spend)                       AS spend,
       max(approx_unique_users)         AS approx_unique_users_max,
       count(*)                         AS partitions
FROM ad_stats_hourly
GROUP BY hour, campaign_id, ad_id;

-- ad_events_stream: one row per completion signal (the batch's identity).
CREATE TABLE IF NOT EXISTS ad_events_batches (
    signal_id         text          PRIMARY KEY,
    topic             text          NOT NULL,
    ranges            jsonb         NOT NULL,
    run_id            text          NOT NULL,
    input_records     bigint        NOT NULL,
    bad_records       bigint        NOT NULL,
    valid_records     bigint        NOT NULL,
    duplicate_records bigint        NOT NULL,
    rows              bigint        NOT NULL,
    impressions       bigint        NOT NULL,
    clicks            bigint        NOT NULL,
    conversions       bigint        NOT NULL,
    spend             numeric(28,6) NOT NULL,
    loaded_at         timestamptz   NOT NULL DEFAULT now()
);

-- Per-batch stats; deleting a batch deletes its rows (reloads are idempotent).
CREATE TABLE IF NOT EXISTS ad_events_stats (
    signal_id           text          NOT NULL
                        REFERENCES ad_events_batches (signal_id) ON DELETE CASCADE,
    hour                timestamptz   NOT NULL,
    campaign_id         text          NOT NULL,
    ad_id               text          NOT NULL,
    impressions         bigint        NOT NULL,
    clicks              bigint        NOT NULL,
    conversions         bigint        NOT NULL,
    spend               numeric(28,6) NOT NULL,
    approx_unique_users bigint        NOT NULL,
    PRIMARY KEY (signal_id, hour, campaign_id, ad_id)
);

-- Streamed stats summed over batches. approx_unique_users_max is a lower bound
-- of the hour's unique users when an hour spans several batches.
CREATE OR REPLACE VIEW ad_events_hourly AS
SELECT hour,
       campaign_id,
       ad_id,
       sum(impressions)::bigint         AS impressions,
       sum(clicks)::bigint              AS clicks,
       sum(conversions)::bigint         AS conversions,
       sum(spend)                       AS spend,
       max(approx_unique_users)         AS approx_unique_users_max,
       count(*)                         AS batches
FROM ad_events_stats
GROUP BY hour, campaign_id, ad_id;
