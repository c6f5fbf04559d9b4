// Password hashing with argon2id (@node-rs/argon2: a prebuilt binding that works on this platform).
import { hash, verify } from '@node-rs/argon2';

import { randomBytes } from 'node:crypto';

// A hash to verify against when the account does not exist, so timing does not reveal accounts.
let dummyHash: Promise<string> | undefined;

export function hashPassword(password: string): Promise<string> {
  // OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane.
  return hash(password, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

export async function verifyPassword(hashed: string | null | undefined, password: string): Promise<boolean> {
  try {
    if (!hashed) {
      dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
      await verify(await dummyHash, password);
      return false;
    }
    return await verify(hashed, password);
  } catch {
    return false;
  }
}

export { passwordRule } from './password-rule';
