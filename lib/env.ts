// Every environment variable Lifeboat reads, parsed once with zod; a bad one stops the process with one line.
import { z } from 'zod';
import { badTrustedProxies } from './auth/client-address';

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://');

// z.url() alone takes "localhost:3000" (scheme "localhost") and ftp://; only http(s) with a real host will do.
const httpUrl = z.url({ protocol: /^https?$/, hostname: z.regexes.hostname, message: 'must be an http:// or https:// URL' });

const shape = {
    DATABASE_URL: postgresUrl.describe(
      "the console's own PostgreSQL, e.g. postgres://lifeboat:secret@127.0.0.1:5432/lifeboat",
    ),
    NEXTAUTH_SECRET: z
      .string()
      .min(32, 'must be at least 32 characters')
      .describe('a random string of 32+ characters that signs sessions: openssl rand -base64 32'),
    NEXTAUTH_URL: httpUrl
      .describe('the URL people open, e.g. http://localhost:3000'),
    LIFEBOAT_MASTER_KEY: z
      .string()
      .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes in base64')
      .describe('the key that encrypts stored passwords: openssl rand -base64 32'),
    LIFEBOAT_DATA_DIR: z.string().min(1).optional().describe('a folder for local backup storage'),
    LIFEBOAT_SCRATCH_DIR: z
      .string()
      .min(1)
      .optional()
      .describe("a folder on the worker host for a job's temporary files, removed when the job ends (default: <LIFEBOAT_DATA_DIR>/scratch)"),
    LIFEBOAT_WORKER_POOL: z
      .string()
      .regex(/^[a-z0-9-]+$/, 'must be lowercase letters, digits and dashes')
      .default('default')
      .describe('the pool (queue suffix) this worker serves'),
    LIFEBOAT_WORKER_HOST: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, 'must be a host name (letters, digits, dots, dashes)')
      .optional()
      .describe("this worker's host name, which decides whose partial files its crash sweep removes (default: the OS host name)"),
    LIFEBOAT_PG_BIN_DIRS: z
      .string()
      .optional()
      .describe('extra folders with PostgreSQL client tools, separated by ":" (e.g. /opt/pg17/bin)'),
    LIFEBOAT_BACKUP_TIMEOUT_SECONDS: z.coerce
      .number()
      .int()
      .min(60, 'must be at least 60')
      .optional()
      .describe('the longest a backup may run before it is stopped and failed, in seconds (default 21600)'),
    LIFEBOAT_RESTORE_TIMEOUT_SECONDS: z.coerce
      .number()
      .int()
      .min(60, 'must be at least 60')
      .optional()
      .describe('the longest a restore or drill may run before it is stopped and failed, in seconds (default 21600)'),
    LIFEBOAT_REPAIR_TIMEOUT_SECONDS: z.coerce
      .number()
      .int()
      .min(60, 'must be at least 60')
      .optional()
      .describe('the longest a guided repair (amcheck, REINDEX, VACUUM FULL) may run before it is stopped and failed, in seconds (default 21600)'),
    LIFEBOAT_HOOK_TIMEOUT_SECONDS: z.coerce
      .number()
      .int()
      .min(1, 'must be at least 1')
      .optional()
      .describe('the longest a restore hook may run before it is killed, in seconds (default 120)'),
    LIFEBOAT_TRUSTED_PROXIES: z
      .string()
      .superRefine((v, ctx) => {
        const bad = badTrustedProxies(v);
        if (bad.length) {
          const list = bad.map((b) => `"${b}"`).join(', ');
          ctx.addIssue({ code: 'custom', message: `has entries that are not IP addresses or CIDR ranges: ${list}` });
        }
      })
      .optional()
      .describe(
        'the reverse proxies whose X-Forwarded-For is believed, as comma-separated IP addresses or CIDR ranges (e.g. 127.0.0.1,10.0.0.0/8); leave it unset when browsers connect to Lifeboat directly',
      ),
    OIDC_ISSUER: httpUrl.optional().describe('the OpenID Connect issuer URL'),
    OIDC_CLIENT_ID: z.string().min(1).optional().describe('the OpenID Connect client id'),
    OIDC_CLIENT_SECRET: z.string().min(1).optional().describe('the OpenID Connect client secret'),
    OIDC_NAME: z.string().min(1).default('Single sign-on').describe('the label of the sign-in button'),
};

const schema = z
  .object(shape)
  .superRefine((env, ctx) => {
    const oidc = [env.OIDC_ISSUER, env.OIDC_CLIENT_ID, env.OIDC_CLIENT_SECRET];
    if (oidc.some(Boolean) && !oidc.every(Boolean)) {
      const missing = (['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const).filter((k) => !env[k]);
      for (const key of missing) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'is needed when any OIDC_* variable is set' });
      }
    }
    // Run even when other variables failed, so every problem is reported at once.
  }, { when: () => true });

export type Env = z.infer<typeof schema>;

/** Parses an environment; returns one line per problem, each naming the variable and what to set. */
export function parseEnv(source: Record<string, string | undefined>): { env?: Env; problems: string[] } {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return { env: result.data, problems: [] };
  const problems = result.error.issues.map((issue) => {
    const key = String(issue.path[0]);
    const what = (shape as Record<string, z.ZodType>)[key]?.description;
    const missing = cleaned[key] === undefined;
    const head = missing ? `${key} is not set` : `${key} ${issue.message}`;
    return `Configuration error: ${head}. Set ${key} to ${what ?? 'a valid value'} (see .env.example).`;
  });
  return { problems };
}

let cached: Env | undefined;

/** The validated environment; on a bad one, prints each problem on a line and exits. */
export function getEnv(): Env {
  if (cached) return cached;
  const { env, problems } = parseEnv(process.env);
  if (!env) {
    for (const line of problems) console.error(line);
    process.exit(1);
  }
  cached = env;
  return env;
}

const TIMEOUT_KEYS = { LIFEBOAT_BACKUP_TIMEOUT_SECONDS: true, LIFEBOAT_RESTORE_TIMEOUT_SECONDS: true, LIFEBOAT_REPAIR_TIMEOUT_SECONDS: true } as const;

/**
 * The job time limits alone, validated like the rest. Enqueueing a job needs only these, and so must work in a
 * process that has no session secrets (the demo's seed creates its target, which enqueues a connection test).
 */
export function jobTimeouts(): Pick<Env, keyof typeof TIMEOUT_KEYS> {
  if (cached) return cached;
  const cleaned = Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).pick(TIMEOUT_KEYS).safeParse(cleaned);
  if (result.success) return result.data;
  // A bad limit is reported exactly as getEnv reports it (and stops the process the same way).
  return getEnv();
}
