// worker/restore/roles.ts: roles parsed from pg_dumpall --globals-only and created only as far as an admin ticked.
import { describe, expect, it } from 'vitest';
import { createRolesSql, parseGlobals, planRoles } from '../../../../worker/restore/roles';

const globals = `--
-- Roles
--

CREATE ROLE "app owner";
ALTER ROLE "app owner" WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS CONNECTION LIMIT 5 PASSWORD 'SCRAM-SHA-256$4096:gr==$lS=:70=' VALID UNTIL '2030-01-01 00:00:00+00';
CREATE ROLE plain;
ALTER ROLE plain WITH NOSUPERUSER NOINHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE postgres;
ALTER ROLE postgres WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS;
ALTER ROLE plain SET work_mem TO '4MB';
`;
const none = { superuser: false, createrole: false, replication: false, bypassrls: false, password: false };

describe('roles from the saved globals', () => {
  const parsed = parseGlobals(globals);

  it('parses attributes, the connection limit and the hash', () => {
    expect(parsed.get('app owner')).toEqual({ name: 'app owner', attributes: ['SUPERUSER', 'INHERIT', 'CREATEROLE', 'CREATEDB', 'LOGIN', 'REPLICATION', 'BYPASSRLS'], connectionLimit: 5, passwordHash: 'SCRAM-SHA-256$4096:gr==$lS=:70=' });
    expect(parsed.get('plain')?.passwordHash).toBeNull();
  });

  it('without ticks: no superuser, createrole, replication, bypassrls or password', () => {
    const plan = planRoles(parsed, ['app owner', 'missing'], none);
    expect(plan).toEqual([{ name: 'app owner', attributes: ['NOSUPERUSER', 'NOCREATEROLE', 'NOREPLICATION', 'NOBYPASSRLS', 'INHERIT', 'CREATEDB', 'LOGIN', 'CONNECTION LIMIT 5'], password: false }]);
    expect(createRolesSql(parsed, plan)).toBe('CREATE ROLE "app owner" WITH NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CREATEDB LOGIN CONNECTION LIMIT 5;\n');
  });

  it('with ticks: exactly what was ticked, and only what the role had', () => {
    const plan = planRoles(parsed, ['app owner', 'plain'], { ...none, superuser: true, password: true });
    expect(createRolesSql(parsed, plan)).toBe(
      `CREATE ROLE "app owner" WITH SUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CREATEDB LOGIN CONNECTION LIMIT 5 PASSWORD 'SCRAM-SHA-256$4096:gr==$lS=:70=';\n` +
        'CREATE ROLE "plain" WITH NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT NOCREATEDB NOLOGIN;\n',
    );
    expect(plan[1]!.password).toBe(false);
  });
});
