// A target's connection for one database, with the password decrypted (worker only).
import type { Target } from '../generated/prisma/client';
import { decryptSecret } from '../secrets/crypto';

export function targetConn(t: Pick<Target, 'host' | 'port' | 'dbUser' | 'passwordEnc' | 'sslMode'>, database: string) {
  return {
    host: t.host,
    port: t.port,
    user: t.dbUser,
    password: t.passwordEnc ? decryptSecret(t.passwordEnc) : null,
    sslMode: t.sslMode,
    database,
  };
}

/** A file-system-safe name for a database or target: readable ASCII, plus a short hash when characters were replaced. */
export function safeName(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|_+$/g, '').slice(0, 60) || 'db';
  if (ascii === name) return ascii;
  let h = 0;
  for (const ch of name) h = (Math.imul(h, 31) + ch.codePointAt(0)!) >>> 0;
  return `${ascii}-${h.toString(16).padStart(8, '0')}`;
}
