// worker/pg/run-tool.ts with real child processes: exit codes and signals reported, a cancel rejects with the
// signal's reason and stops the program, stdin from a file goes through the kernel, stderr lines split across
// chunks, the child sees a minimal environment (never the worker's secrets), a kernel pipe between two programs,
// and the helpers that turn a result into a ToolError and lines into the job log.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, open as openCb, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ToolError } from '../../../../lib/jobs/lifecycle';
import { lastErrorLine, lineLogger, lineSplitter, pipeTools, requireSuccess, runTool, tail, type ToolResult } from '../../../../worker/pg/run-tool';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lifeboat-run-tool-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const signal = () => new AbortController().signal;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sh = (script: string, more: Partial<Parameters<typeof runTool>[0]> = {}) => runTool({ exe: 'sh', args: ['-c', script], signal: signal(), ...more });

describe('runTool', () => {
  it('reports the exit code, buffered stdout and the stderr tail', async () => {
    const r = await sh('echo out; echo "first" >&2; echo "sh: error: broken" >&2; exit 3');
    expect(r).toEqual({ exitCode: 3, signal: null, stdout: 'out\n', stderrTail: 'first\nsh: error: broken\n' });
    expect((await sh('exit 0')).exitCode).toBe(0);
  });

  it('reports a program killed by a signal', async () => {
    const r = await sh('kill -KILL $$');
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('SIGKILL');
  });

  it('a program that cannot start resolves with no exit code and says why', async () => {
    const r = await runTool({ exe: path.join(dir, 'no-such-program'), args: [], signal: signal() });
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBeNull();
    expect(r.stderrTail).toMatch(/ENOENT/);
    expect(() => requireSuccess(r, 'no-such-program', 'BACKUP_TOOL_FAILED')).toThrow(/did not start/);
  });

  it('a cancel stops the program and rejects with the reason', async () => {
    const ac = new AbortController();
    const marker = path.join(dir, 'cancel-marker');
    const h = runTool({ exe: 'sh', args: ['-c', `sleep 30; touch ${marker}`], signal: ac.signal });
    expect(h.pid).toBeGreaterThan(0);
    const reason = new Error('cancelled on request');
    setTimeout(() => ac.abort(reason), 200);
    const started = Date.now();
    await expect(h).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(5000);
    // The process is gone.
    expect(() => process.kill(h.pid!, 0)).toThrow();
  });

  it('an already aborted signal never leaves a result that looks like success', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stopped before'));
    await expect(runTool({ exe: 'sh', args: ['-c', 'exit 0'], signal: ac.signal })).rejects.toThrow('stopped before');
  });

  it('hands a file ReadStream with an open fd to the child through the kernel, and closes it after', async () => {
    const data = Buffer.concat([randomBytes(2 << 20), Buffer.alloc(1 << 20, 'x')]);
    const file = path.join(dir, 'stdin.bin');
    writeFileSync(file, data);
    const fd = await promisify(openCb)(file, 'r');
    const stream = createReadStream(file, { fd });
    const readSpy = vi.spyOn(stream, 'read');
    // The child's fd 0 is the file itself (not a pipe this process fills); it hashes all of it.
    const r = await runTool({ exe: 'sh', args: ['-c', 'readlink /proc/self/fd/0; sha256sum'], signal: signal(), stdin: stream });
    const [link, sum] = r.stdout.trim().split('\n');
    expect(link).toBe(file);
    expect(sum!.split(' ')[0]).toBe(sha(data));
    expect(readSpy).not.toHaveBeenCalled();
    await new Promise((res) => setTimeout(res, 50));
    expect(stream.destroyed).toBe(true);
  });

  it('pipes a stream without an fd, and takes a Buffer or a string as input', async () => {
    const pt = new PassThrough();
    const h = runTool({ exe: 'cat', args: [], signal: signal(), stdin: pt });
    pt.end('from a stream');
    expect((await h).stdout).toBe('from a stream');
    expect((await runTool({ exe: 'cat', args: [], signal: signal(), stdin: Buffer.from('a buffer') })).stdout).toBe('a buffer');
    expect((await runTool({ exe: 'cat', args: [], signal: signal(), stdin: 'a string' })).stdout).toBe('a string');
  });

  it('gives every stderr line to onLine as it comes, joined across chunks, the last one without a newline too', async () => {
    const lines: string[] = [];
    // printf writes the parts in separate writes with pauses, so the pipe delivers them as separate chunks.
    const r = await sh("printf 'one\\ntw' >&2; sleep 0.2; printf 'o\\r\\nthr' >&2; sleep 0.2; printf 'ee\\nfour' >&2", { onLine: (l) => lines.push(l) });
    expect(r.exitCode).toBe(0);
    expect(lines).toEqual(['one', 'two', 'three', 'four']);
  });

  it("stdout: 'lines' sends stdout lines to onLine; 'pipe' hands the stream over; a Writable receives it", async () => {
    const lines: string[] = [];
    const r = await sh('echo a; echo b', { stdout: 'lines', onLine: (l) => lines.push(l) });
    expect(lines).toEqual(['a', 'b']);
    expect(r.stdout).toBe('');

    const h = sh('echo piped', { stdout: 'pipe' });
    const chunks: Buffer[] = [];
    h.stdout!.on('data', (c: Buffer) => chunks.push(c));
    await h;
    expect(Buffer.concat(chunks).toString()).toBe('piped\n');

    const got: Buffer[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (got.push(c), cb()) });
    await sh('echo to a writable', { stdout: sink });
    expect(Buffer.concat(got).toString()).toBe('to a writable\n');
  });

  it("the child gets a minimal environment: the worker's DATABASE_URL, NEXTAUTH_SECRET and LIFEBOAT_MASTER_KEY never reach it", async () => {
    const saved = { ...process.env };
    process.env.DATABASE_URL = 'postgres://u:secret@h/db';
    process.env.NEXTAUTH_SECRET = 'a'.repeat(40);
    process.env.LIFEBOAT_MASTER_KEY = 'bWFzdGVyLWtleQ==';
    process.env.PGPASSWORD = 'not for children';
    try {
      const r = await runTool({ exe: 'env', args: [], signal: signal(), env: { PGHOST: 'db.example' } });
      const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      expect(env.PGHOST).toBe('db.example');
      expect(env.PATH).toBe(process.env.PATH);
      for (const k of ['DATABASE_URL', 'NEXTAUTH_SECRET', 'LIFEBOAT_MASTER_KEY', 'PGPASSWORD']) expect(env[k], k).toBeUndefined();
      expect(r.stdout).not.toContain('secret');
    } finally {
      process.env = saved;
    }
  });
});

describe('pipeTools', () => {
  it('connects producer and consumer through the kernel, byte for byte, both exit codes reported', async () => {
    const data = randomBytes(3 << 20);
    const file = path.join(dir, 'pipe-in.bin');
    writeFileSync(file, data);
    const out = path.join(dir, 'pipe-out.bin');
    const { producer, consumer } = pipeTools(
      { exe: 'sh', args: ['-c', 'sleep 0.3; exec cat "$0"', file], signal: signal() },
      { exe: 'sh', args: ['-c', 'cat > "$0"', out], signal: signal() },
    );
    expect(producer.stdout).toBeNull();
    // The producer's stdout is the consumer's stdin, not something this process reads.
    const consumerIn = readlinkSync(`/proc/${consumer.pid}/fd/0`);
    expect(readlinkSync(`/proc/${producer.pid}/fd/1`)).toMatch(/^(socket|pipe):/);
    expect(consumerIn).toMatch(/^(socket|pipe):/);
    const [p, c] = await Promise.all([producer, consumer]);
    expect([p.exitCode, c.exitCode]).toEqual([0, 0]);
    expect(sha(readFileSync(out))).toBe(sha(data));
  });

  it('reports a failing producer while the consumer still ends (its input closed)', async () => {
    const { producer, consumer } = pipeTools(
      { exe: 'sh', args: ['-c', 'echo partial; echo "boom" >&2; exit 2'], signal: signal() },
      { exe: 'wc', args: ['-c'], signal: signal() },
    );
    const [p, c] = await Promise.all([producer, consumer]);
    expect(p.exitCode).toBe(2);
    expect(p.stderrTail).toBe('boom\n');
    expect(c.exitCode).toBe(0);
    expect(c.stdout.trim()).toBe('8');
  });

  it('a dead consumer stops the producer instead of leaving it blocked', async () => {
    const { producer, consumer } = pipeTools({ exe: 'cat', args: ['/dev/zero'], signal: signal() }, { exe: 'sh', args: ['-c', 'head -c 1000 >/dev/null'], signal: signal() });
    const c = await consumer;
    expect(c.exitCode).toBe(0);
    const p = await Promise.race([producer, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10_000))]);
    expect(p).not.toBe('still running');
    expect((p as ToolResult).exitCode === 0).toBe(false);
  });
});

describe('tail, lastErrorLine, requireSuccess', () => {
  it('tail keeps the last lines, at most 8000 characters', () => {
    expect(tail('a\nb\nc\n', 2)).toBe('b\nc');
    expect(tail('a\nb')).toBe('a\nb');
    const long = Array.from({ length: 500 }, (_, i) => `line ${i} ${'x'.repeat(50)}`).join('\n');
    const t = tail(long);
    expect(t.length).toBeLessThanOrEqual(8000);
    expect(t.endsWith('line 499 ' + 'x'.repeat(50))).toBe(true);
    expect(t.startsWith('line ')).toBe(true);
  });

  it('lastErrorLine picks the last line naming an error, without the tool prefix', () => {
    expect(lastErrorLine('pg_dump: dumping x\npg_dump: error: query failed: boom\npg_dump: detail: q\n', 'pg_dump')).toBe('query failed: boom');
    expect(lastErrorLine('psql: error: connection to server failed\n', 'psql')).toBe('connection to server failed');
    expect(lastErrorLine('ERROR:  relation "t" does not exist\nLINE 1: x\n', 'psql')).toBe('ERROR:  relation "t" does not exist');
    expect(lastErrorLine('zstd: /*stdin*\\: unexpected end of file \nsomething\n', 'zstd')).toBe('something');
    expect(lastErrorLine('just a line\n\n', 'x')).toBe('just a line');
    expect(lastErrorLine('  \n', 'x')).toBeNull();
  });

  it('requireSuccess passes exit 0 and throws a ToolError with the code, the last error line and the tail', () => {
    requireSuccess({ exitCode: 0, signal: null, stdout: '', stderrTail: 'noise' }, 'pg_dump', 'BACKUP_TOOL_FAILED');
    let err: unknown;
    try {
      requireSuccess({ exitCode: 1, signal: null, stdout: '', stderrTail: 'pg_restore: error: could not read\n' }, 'pg_restore', 'RESTORE_FAILED');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ToolError);
    expect((err as ToolError).code).toBe('RESTORE_FAILED');
    expect((err as ToolError).message).toBe('pg_restore failed (exit 1): could not read.');
    expect((err as ToolError).detail).toBe('pg_restore: error: could not read');
    expect(() => requireSuccess({ exitCode: null, signal: 'SIGKILL', stdout: '', stderrTail: '' }, 'zstd -t', 'BACKUP_VERIFY_FAILED')).toThrow('zstd -t failed (killed by SIGKILL).');
  });
});

describe('lineSplitter', () => {
  it('joins a multi-byte character split between chunks', () => {
    const lines: string[] = [];
    const s = lineSplitter((l) => lines.push(l));
    const b = Buffer.from('größe\nnext');
    s.write(b.subarray(0, 3));
    s.write(b.subarray(3));
    s.end();
    expect(lines).toEqual(['größe', 'next']);
  });
});

describe('lineLogger', () => {
  afterEach(() => vi.useRealTimers());

  it('batches lines into the log once a second, in order, with levels; flush writes the rest', async () => {
    vi.useFakeTimers();
    const logged: [string, string | undefined][] = [];
    const l = lineLogger(async (line, level) => void logged.push([line, level]));
    l.onLine('pg_restore: processing item 1');
    l.onLine('');
    l.onLine('pg_restore: warning: errors ignored on restore: 1');
    expect(logged).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(logged).toEqual([
      ['pg_restore: processing item 1', 'info'],
      ['pg_restore: warning: errors ignored on restore: 1', 'warn'],
    ]);
    l.onLine('pg_restore: error: could not execute query');
    l.onLine('FATAL:  terminating connection');
    await l.flush();
    expect(logged.slice(2)).toEqual([
      ['pg_restore: error: could not execute query', 'error'],
      ['FATAL:  terminating connection', 'error'],
    ]);
  });

  it("takes the caller's level when it is given (a DETAIL line logged at its message's level)", async () => {
    const logged: [string, string | undefined][] = [];
    const l = lineLogger(async (line, level) => void logged.push([line, level]));
    l.onLine('ERROR:  could not create unique index "u"');
    l.onLine('DETAIL:  Key (id)=(1) is duplicated.', 'error');
    l.onLine('INFO:  index "i" was reindexed', 'info');
    await l.flush();
    expect(logged).toEqual([
      ['ERROR:  could not create unique index "u"', 'error'],
      ['DETAIL:  Key (id)=(1) is duplicated.', 'error'],
      ['INFO:  index "i" was reindexed', 'info'],
    ]);
  });

  it('stops at max lines and says how many were left out; a failing write does not stop later ones', async () => {
    const logged: string[] = [];
    let fail = true;
    const l = lineLogger(
      async (line) => {
        if (fail) {
          fail = false;
          throw new Error('database blinked');
        }
        logged.push(line);
      },
      { max: 3, tool: 'pg_dump' },
    );
    for (let i = 0; i < 10; i++) l.onLine(`line ${i}`);
    await l.flush();
    expect(logged).toEqual(['line 1', 'line 2', '(7 more line(s) of pg_dump not logged)']);
  });
});
