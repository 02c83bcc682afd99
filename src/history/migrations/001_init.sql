-- The notification history: what the status event stream said, archived. Run with search_path set to the history's
-- schema (see migrate.ts), so names here are unqualified.
--
-- Every table is partitioned by day (RANGE on the notification's created_at, UTC days), so that every row of one
-- notification lands in one partition and retention is a DROP of whole partitions (partitions.ts makes them; there is
-- deliberately no DEFAULT partition: rows in it could never be dropped by day). Primary keys therefore include
-- created_at. Times are timestamptz; the JSON columns hold what the Redis record holds (addresses masked, no body or
-- token: see clean.ts).

-- A stream entry id ("ms-seq") as numbers, which compare as the ids order (text would put "9-0" after "10-0").
CREATE FUNCTION stream_id_key(id text) RETURNS numeric[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT ARRAY[split_part(id, '-', 1)::numeric, split_part(id, '-', 2)::numeric] $$;

CREATE TABLE notifications (
  tenant text NOT NULL,
  id text NOT NULL,
  created_at timestamptz NOT NULL,
  -- NotificationMeta; until its `accepted` event is archived, the little a later event tells ({tenant, created_at}).
  meta jsonb NOT NULL,
  -- The stream id of the `accepted` event that wrote meta (NULL: meta not written by one yet).
  meta_event text,
  category text,
  event_id text,
  template text,
  -- The shown status (src/domain/status.ts shownStatus over the deliveries), recomputed by every batch touching it.
  status text NOT NULL,
  cancelled_at timestamptz,
  not_planned jsonb,
  not_planned_event text,
  -- The stream time (the entry id's ms) of the latest event applied: a re-applied batch leaves it as it was.
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant, id, created_at)
) PARTITION BY RANGE (created_at);

-- Search: newest first within a tenant, by status, category or template (keyset on created_at, id).
CREATE INDEX notifications_recent ON notifications (tenant, created_at DESC, id DESC);
CREATE INDEX notifications_status ON notifications (tenant, status, created_at DESC, id DESC);
CREATE INDEX notifications_category ON notifications (tenant, category, created_at DESC, id DESC) WHERE category IS NOT NULL;
CREATE INDEX notifications_template ON notifications (tenant, template, created_at DESC, id DESC) WHERE template IS NOT NULL;

CREATE TABLE deliveries (
  tenant text NOT NULL,
  notification_id text NOT NULL,
  key text NOT NULL,
  -- The notification's created_at (the partition key), not the delivery's.
  created_at timestamptz NOT NULL,
  -- NULL only while the row holds feedback whose `delivery` event is not archived yet (events read out of order).
  user_id text,
  channel text,
  provider text,
  to_masked text,
  -- The shown status: feedback's status if it has one, else the record's.
  status text,
  record jsonb,
  record_event text,
  feedback jsonb,
  feedback_rank int,
  feedback_event text,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant, notification_id, created_at, key)
) PARTITION BY RANGE (created_at);

CREATE INDEX deliveries_user ON deliveries (tenant, user_id, created_at DESC);
CREATE INDEX deliveries_channel ON deliveries (tenant, channel, created_at DESC);

CREATE TABLE events (
  -- The stream entry id: a re-read event has the same one, and is not written twice.
  id text NOT NULL,
  tenant text NOT NULL,
  notification_id text NOT NULL,
  delivery_key text,
  -- The delivery's user (for erasure), when the event is about a delivery the history knows.
  user_id text,
  kind text NOT NULL,
  -- delivery: the record's status; feedback: its status, if any; engagement: opened | clicked.
  status text,
  at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

CREATE INDEX events_notification ON events (tenant, notification_id, created_at);
CREATE INDEX events_user ON events (tenant, user_id) WHERE user_id IS NOT NULL;

-- Erased users (a SHA-256 of tenant and user id, not the id), with the stream id of the erasure: an event of theirs
-- read again later (a batch another archiver claimed after the erasure) is not written back. Not partitioned: small.
CREATE TABLE erasures (
  tenant text NOT NULL,
  user_hash text NOT NULL,
  event text NOT NULL,
  PRIMARY KEY (tenant, user_hash)
);
