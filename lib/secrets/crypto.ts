// Secrets at rest: AES-256-GCM with LIFEBOAT_MASTER_KEY; decrypted only where used (the worker), never logged or sent.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { UserError } from '../errors';

const VERSION = 'v1';

function masterKey(): Buffer {
  const raw = process.env.LIFEBOAT_MASTER_KEY;
  const key = raw ? Buffer.from(raw, 'base64') : Buffer.alloc(0);
  if (key.length !== 32) throw new Error('LIFEBOAT_MASTER_KEY must be 32 bytes in base64 (openssl rand -base64 32).');
  return key;
}

/** "v1:<iv>:<tag>:<ciphertext>", all base64. */
export function encryptSecret(plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey(), iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
}

export function decryptSecret(sealed: string): string {
  const [version, iv, tag, data] = sealed.split(':');
  if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('The stored secret has an unknown format.');
  const decipher = createDecipheriv('aes-256-gcm', masterKey(), Buffer.from(iv, 'base64'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new UserError('MASTER_KEY_MISMATCH', 'The stored password cannot be decrypted: LIFEBOAT_MASTER_KEY differs from the key it was saved with.');
  }
}
