// Validation for targets, shared by the API and the forms.
import { z } from 'zod';

const tableName = z.string().trim().regex(/^[^.\s]+\.[^.\s]+$/, 'must be schema.table');

export const sslModes = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;

const fields = {
  name: z.string({ error: 'is required' }).trim().min(1, 'is required').max(80),
  host: z.string({ error: 'is required' }).trim().min(1, 'is required').max(255),
  port: z.coerce.number().int().min(1).max(65535),
  dbUser: z.string({ error: 'is required' }).trim().min(1, 'is required').max(63),
  // undefined: keep the stored one (on edit); null or '': no password (trust or peer); a string: set it.
  password: z.string().max(1000).nullable(),
  sslMode: z.enum(sslModes),
  // null: every database of the server, discovered at each run.
  database: z.string().trim().min(1).max(63).nullable(),
  keyTables: z.array(tableName).max(50),
  checkStatements: z.array(z.string().trim().min(1).max(2000)).max(20),
  workerPool: z.string().regex(/^[a-z0-9-]+$/, 'must be lowercase letters, digits and dashes'),
  storageId: z.uuid().nullable(),
  disabled: z.boolean(),
  preRestoreHook: z.string().trim().max(2000).nullable(),
  postRestoreHook: z.string().trim().max(2000).nullable(),
};

export const targetInput = z.object({
  ...fields,
  port: fields.port.default(5432),
  password: fields.password.optional(),
  sslMode: fields.sslMode.default('prefer'),
  keyTables: fields.keyTables.default([]),
  checkStatements: fields.checkStatements.default([]),
  workerPool: fields.workerPool.default('default'),
  storageId: fields.storageId.optional(),
  disabled: fields.disabled.optional(),
  preRestoreHook: fields.preRestoreHook.optional(),
  postRestoreHook: fields.postRestoreHook.optional(),
});

/** An edit: only what is sent changes. */
export const targetPatch = z.object(fields).partial();

export type TargetInput = z.infer<typeof targetInput>;
