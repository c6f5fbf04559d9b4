// Validation for targets, shared by the API and the forms.
import { z } from 'zod';

const tableName = z.string().trim().regex(/^[^.\s]+\.[^.\s]+$/, 'must be schema.table');

export const sslModes = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

export const targetInput = z.object({
  name: z.string().trim().min(1, 'is required').max(80),
  host: z.string().trim().min(1, 'is required').max(255),
  port: z.coerce.number().int().min(1).max(65535).default(5432),
  dbUser: z.string().trim().min(1, 'is required').max(63),
  // undefined: keep the stored one (on edit); null: no password (trust or peer); a string: set it.
  password: z.string().max(1000).nullable().optional(),
  sslMode: z.enum(sslModes).default('prefer'),
  // null: every database of the server, discovered at each run.
  database: z.string().trim().min(1).max(63).nullable(),
  keyTables: z.array(tableName).max(50).default([]),
  checkStatements: z.array(z.string().trim().min(1).max(2000)).max(20).default([]),
  workerPool: z.string().regex(/^[a-z0-9-]+$/, 'must be lowercase letters, digits and dashes').default('default'),
  storageId: z.uuid().nullable().optional(),
  disabled: z.boolean().optional(),
});

export type TargetInput = z.infer<typeof targetInput>;
