// Schemas for numeric ids (bigint columns): anything past PostgreSQL's bigint range is a validation error naming the
// field, not a database error. Importable by the worker (no Next, no Prisma).
import { z } from 'zod';

export const maxBigint = 9_223_372_036_854_775_807n;

/** A bigint id given as a string of digits (job payloads keep ids as strings). */
export function bigintIdString(message: string) {
  return z
    .string()
    .regex(/^\d+$/, message)
    .refine((v) => BigInt(v) <= maxBigint, message);
}

/** A bigint id from the address or the query, parsed to a bigint; 0 and below are allowed only with `min`. */
export function bigintId(message: string, min = 1n) {
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, message)
    .transform((v) => BigInt(v))
    .refine((v) => v >= min && v <= maxBigint, message);
}
