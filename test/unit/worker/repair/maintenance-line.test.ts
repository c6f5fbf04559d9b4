// worker/repair/maintenance-line.ts: psql's stderr during REINDEX (VERBOSE) and VACUUM (VERBOSE): progress events,
// timing noise, levels (DETAIL, HINT and CONTEXT follow the message above them) and the server's error text.
import { describe, expect, it } from 'vitest';
import { maintenanceReader, parseMaintenanceLine } from '../../../../worker/repair/maintenance-line';

describe('parseMaintenanceLine', () => {
  it('reads REINDEX progress', () => {
    expect(parseMaintenanceLine('INFO:  index "users_pkey" was reindexed')).toEqual({ kind: 'index-reindexed', object: 'users_pkey' });
    expect(parseMaintenanceLine('INFO:  table "core.users" was reindexed')).toEqual({ kind: 'table-reindexed', object: 'core.users' });
    // A quote inside the name stays part of it.
    expect(parseMaintenanceLine('INFO:  index "we"ird_idx" was reindexed')).toEqual({ kind: 'index-reindexed', object: 'we"ird_idx' });
  });
  it('reads VACUUM progress', () => {
    expect(parseMaintenanceLine('INFO:  vacuuming "shop.core.orders"')).toEqual({ kind: 'vacuuming', object: 'shop.core.orders' });
    expect(parseMaintenanceLine('INFO:  analyzing "core.orders"')).toEqual({ kind: 'analyzing', object: 'core.orders' });
  });
  it('drops empty lines and per-object timings', () => {
    expect(parseMaintenanceLine('')).toEqual({ kind: 'noise' });
    expect(parseMaintenanceLine('   ')).toEqual({ kind: 'noise' });
    expect(parseMaintenanceLine('DETAIL:  CPU: user: 0.00 s, system: 0.00 s, elapsed: 0.00 s.')).toEqual({ kind: 'noise' });
    expect(parseMaintenanceLine('CPU: user: 0.01 s, system: 0.00 s, elapsed: 0.02 s.')).toEqual({ kind: 'noise' });
  });
  it('gives messages their level', () => {
    expect(parseMaintenanceLine('ERROR:  canceling statement due to lock timeout')).toEqual({ kind: 'message', level: 'error' });
    expect(parseMaintenanceLine('FATAL:  terminating connection due to administrator command')).toEqual({ kind: 'message', level: 'error' });
    expect(parseMaintenanceLine('PANIC:  could not write to file')).toEqual({ kind: 'message', level: 'error' });
    expect(parseMaintenanceLine('psql: error: connection to server on socket "/tmp/.s.PGSQL.5432" failed')).toEqual({ kind: 'message', level: 'error' });
    expect(parseMaintenanceLine('WARNING:  skipping "pg_authid" --- only superuser can vacuum it')).toEqual({ kind: 'message', level: 'warn' });
    expect(parseMaintenanceLine('INFO:  "orders": found 0 removable, 12 nonremovable row versions in 1 pages')).toEqual({ kind: 'message', level: 'info' });
  });
  it('does not take a progress line that only mentions the words', () => {
    expect(parseMaintenanceLine('INFO:  index "a" was reindexed, twice')).toEqual({ kind: 'message', level: 'info' });
    expect(parseMaintenanceLine('NOTICE:  vacuuming "x"')).toEqual({ kind: 'message', level: 'info' });
  });
});

describe('maintenanceReader', () => {
  it("logs DETAIL, HINT and CONTEXT at the level of the message above, and keeps the error's text", () => {
    const read = maintenanceReader();
    expect(read('WARNING:  skipping "pg_authid"')).toMatchObject({ level: 'warn', error: null });
    expect(read('DETAIL:  only superuser can vacuum it')).toMatchObject({ level: 'warn', error: null });
    expect(read('ERROR:  could not read block 1 in file "base/1/2": read only 0 of 8192 bytes')).toMatchObject({
      level: 'error',
      error: 'could not read block 1 in file "base/1/2": read only 0 of 8192 bytes',
    });
    expect(read('CONTEXT:  while vacuuming "core.sessions"')).toMatchObject({ level: 'error', error: null });
    expect(read('HINT:  restore from a backup')).toMatchObject({ level: 'error', error: null });
    expect(read('INFO:  vacuuming "core.users"')).toMatchObject({ parsed: { kind: 'vacuuming', object: 'core.users' }, level: 'info', error: null });
    expect(read('DETAIL:  now info again')).toMatchObject({ level: 'info' });
  });
  it('marks noise as not logged, without changing the level that follows', () => {
    const read = maintenanceReader();
    read('ERROR:  canceling statement due to lock timeout');
    expect(read('DETAIL:  CPU: user: 0.00 s')).toEqual({ parsed: { kind: 'noise' }, level: null, error: null });
    expect(read('CONTEXT:  while reindexing')).toMatchObject({ level: 'error' });
  });
  it("keeps psql's own connection error as an error line, but not as the server's refusal", () => {
    const read = maintenanceReader();
    expect(read('psql: error: connection refused')).toMatchObject({ level: 'error', error: null });
  });
});
