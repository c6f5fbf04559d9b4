// `npm run migrate`: applies Lifeboat's SQL migrations and installs pg-boss's schema in DATABASE_URL.
import { migrate, MigrationError } from './lib/migrate';
import { installQueueSchema } from './lib/queue-schema';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('Configuration error: DATABASE_URL is not set. Set it to the console database URL (see .env.example).');
  process.exit(1);
}
try {
  const { applied, total } = await migrate(url, { log: (l) => console.log(l) });
  await installQueueSchema(url);
  console.log(applied.length ? `applied ${applied.length} migration(s); ${total} in all` : `database is up to date (${total} migrations)`);
} catch (err) {
  console.error(err instanceof MigrationError ? `migrate: ${err.message}` : err);
  process.exit(1);
}
