// Builds the benchmark databases: pgbench (its filler is blanks, ~37:1 compressible) and an application-like
// database with realistic entropy (uuids, emails, timestamps, jsonb, English text), deterministic from a seed.
import { execa } from 'execa';
import { Faker, en } from '@faker-js/faker';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export async function createPgbench(url: string, scale: number): Promise<void> {
  // -i initialize, -q quiet progress, -s scale (50 = 5 million pgbench_accounts rows).
  await execa('/usr/lib/postgresql/15/bin/pgbench', ['-i', '-q', '-s', String(scale), url], { stdio: 'ignore' });
}

const DDL = `
CREATE SCHEMA app;
CREATE TABLE app.customers (id uuid PRIMARY KEY, email text NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL, profile jsonb NOT NULL);
CREATE TABLE app.orders (id bigint PRIMARY KEY, customer_id uuid NOT NULL, placed_at timestamptz NOT NULL, total_cents bigint NOT NULL, status text NOT NULL, items jsonb NOT NULL, note text);
CREATE TABLE app.events (id bigint PRIMARY KEY, at timestamptz NOT NULL, actor uuid NOT NULL, kind text NOT NULL, body text NOT NULL);
`;

// COPY text format: backslash, tab and newline must be escaped.
const esc = (v: string | null) => (v === null ? '\\N' : v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n'));

async function copy(client: pg.Client, table: string, rows: Iterable<(string | null)[]>) {
  function* lines() {
    let buf: string[] = [];
    for (const r of rows) {
      buf.push(r.map(esc).join('\t') + '\n');
      if (buf.length >= 2000) {
        yield buf.join('');
        buf = [];
      }
    }
    if (buf.length) yield buf.join('');
  }
  await pipeline(Readable.from(lines()), client.query(copyFrom(`COPY ${table} FROM STDIN`)));
}

/** scale 1 is about 1 GB on disk (200 000 customers, 1 000 000 orders, 2 000 000 events). */
export async function createAppDatabase(url: string, scale = 1, seed = 42): Promise<void> {
  const f = new Faker({ locale: [en] });
  f.seed(seed);
  const customers = Math.round(200_000 * scale);
  const orders = Math.round(1_000_000 * scale);
  const events = Math.round(2_000_000 * scale);
  const ids: string[] = [];
  const base = Date.UTC(2020, 0, 1);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(DDL);
    await copy(client, 'app.customers', (function* () {
      for (let i = 0; i < customers; i++) {
        const id = f.string.uuid();
        ids.push(id);
        const first = f.person.firstName();
        const last = f.person.lastName();
        yield [id, f.internet.email({ firstName: first, lastName: last }).toLowerCase(), `${first} ${last}`, new Date(base + f.number.int(1.6e11)).toISOString(),
          JSON.stringify({ plan: f.helpers.arrayElement(['free', 'team', 'business', 'enterprise']), seats: f.number.int(500), company: f.company.name(), city: f.location.city(), tags: f.word.words(3).split(' ') })];
      }
    })());
    await copy(client, 'app.orders', (function* () {
      for (let i = 1; i <= orders; i++) {
        const items = Array.from({ length: f.number.int({ min: 1, max: 4 }) }, () => ({ sku: f.string.alphanumeric(10).toUpperCase(), name: f.commerce.productName(), qty: f.number.int({ min: 1, max: 5 }), price: f.number.int(20000) }));
        yield [String(i), ids[f.number.int(customers - 1)]!, new Date(base + f.number.int(1.7e11)).toISOString(), String(f.number.int(1_000_000)),
          f.helpers.arrayElement(['placed', 'paid', 'shipped', 'delivered', 'refunded']), JSON.stringify(items), i % 3 === 0 ? f.lorem.sentence() : null];
      }
    })());
    await copy(client, 'app.events', (function* () {
      for (let i = 1; i <= events; i++) {
        yield [String(i), new Date(base + i * 1000 + f.number.int(999)).toISOString(), ids[f.number.int(customers - 1)]!,
          f.helpers.arrayElement(['login', 'view', 'search', 'update', 'export', 'comment']), f.word.words({ count: { min: 15, max: 60 } })];
      }
    })());
    await client.query('CREATE INDEX ON app.orders (customer_id)');
    await client.query('CREATE INDEX ON app.events (at)');
    await client.query('VACUUM ANALYZE');
  } finally {
    await client.end();
  }
}
