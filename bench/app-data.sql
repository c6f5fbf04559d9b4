-- A deterministic application-like database with realistic entropy: uuids, emails, timestamps, jsonb and
-- natural-language text drawn from a 1 200-word vocabulary. :rows sets the size (about 1 GB at 1 300 000).
SELECT setseed(0.4242);

CREATE TABLE vocab (i int PRIMARY KEY, w text NOT NULL);
INSERT INTO vocab
SELECT i, w FROM (
  SELECT row_number() OVER () AS i, w FROM (
    SELECT DISTINCT substr(md5(g::text), 1 + (g % 5), 3 + (g % 7)) AS w FROM generate_series(1, 1500) g
  ) s
) v;
-- Real words mixed in so text looks like text (and compresses like it).
INSERT INTO vocab SELECT 100000 + ordinality, w FROM unnest(string_to_array(
  'the of and to in is was for on that with as by at from it an be this which or are have has not but were they their one all would there been more if when will no so can said who what about into than them only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three',
  ' ')) WITH ORDINALITY AS u(w, ordinality);
CREATE TEMP TABLE vocab_arr AS SELECT array_agg(w ORDER BY i) AS a, count(*)::int AS n FROM vocab;

CREATE SCHEMA app;
CREATE TABLE app.customers (
  id uuid PRIMARY KEY,
  email text NOT NULL,
  name text NOT NULL,
  created_at timestamptz NOT NULL,
  profile jsonb NOT NULL
);
CREATE TABLE app.orders (
  id bigint PRIMARY KEY,
  customer_id uuid NOT NULL,
  placed_at timestamptz NOT NULL,
  total_cents bigint NOT NULL,
  status text NOT NULL,
  items jsonb NOT NULL,
  note text
);
CREATE TABLE app.events (
  id bigint PRIMARY KEY,
  at timestamptz NOT NULL,
  actor uuid NOT NULL,
  kind text NOT NULL,
  body text NOT NULL
);
