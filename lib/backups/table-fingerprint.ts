// A key table's content fingerprint: row count and an order-independent sum of per-row hashes (one scan, no sort),
// taken in the dump's snapshot at backup time and again on a restored copy, so a restore check compares contents.
export function fingerprintSql(qualifiedTable: string): string {
  return `SELECT count(*)::bigint AS n, coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0)::text AS h FROM ${qualifiedTable} t`;
}

export interface Fingerprint {
  rows: number;
  hash: string;
}
