// worker/pg/pg-ctl.ts: initdb and pg_ctl argv, and who runs them (the postgres OS user when root).
import { describe, expect, it } from 'vitest';
import { initdbArgs, pgCtlStartArgs, pgCtlStatusArgs, pgCtlStopArgs, serverToolSpec, shellQuote } from '../../../../worker/pg/pg-ctl';

const signal = () => new AbortController().signal;

describe('initdb and pg_ctl argv', () => {
  it('initdb: trust without a password, scram with a pwfile, --no-sync for throwaway clusters', () => {
    expect(initdbArgs({ dataDir: '/d', superuser: 'postgres', locale: 'C.UTF-8' })).toEqual(['-D', '/d', '-U', 'postgres', '--encoding=UTF8', '--locale=C.UTF-8', '--auth=trust']);
    expect(initdbArgs({ dataDir: '/d', superuser: 'lb', locale: 'C', pwFile: '/t/pw', noSync: true })).toEqual([
      '-D', '/d', '-U', 'lb', '--encoding=UTF8', '--locale=C', '--no-sync', '--auth=scram-sha-256', '--pwfile=/t/pw',
    ]);
  });
  it('pg_ctl start shell-quotes each setting for -o; stop waits with a mode; status', () => {
    expect(pgCtlStartArgs({ dataDir: '/d', logFile: '/d.log', settings: { port: '5433', search_path: "it's, public" } })).toEqual([
      'start', '-w', '-t', '60', '-D', '/d', '-l', '/d.log', '-o', `-c 'port=5433' -c 'search_path=it'\\''s, public'`,
    ]);
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
    expect(pgCtlStopArgs({ dataDir: '/d', mode: 'immediate', timeoutSeconds: 5 })).toEqual(['stop', '-w', '-t', '5', '-m', 'immediate', '-D', '/d']);
    expect(pgCtlStatusArgs('/d')).toEqual(['status', '-D', '/d']);
  });
  it('runs as the postgres OS user when root, itself otherwise', () => {
    const spec = serverToolSpec('/usr/lib/postgresql/17/bin', 'pg_ctl', ['status'], { signal: signal() });
    if (process.getuid?.() === 0) {
      expect(spec.exe).toBe('runuser');
      expect(spec.args).toEqual(['-u', 'postgres', '--', '/usr/lib/postgresql/17/bin/pg_ctl', 'status']);
    } else {
      expect(spec.exe).toBe('/usr/lib/postgresql/17/bin/pg_ctl');
      expect(spec.args).toEqual(['status']);
    }
    expect(spec.cwd).toBe('/');
  });
});
