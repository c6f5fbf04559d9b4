// Prisma CLI configuration: only `prisma generate|validate|format` run here (migrations are ours: scripts/migrate.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/lifeboat' },
});
