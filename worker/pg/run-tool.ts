// The one place that starts a program: argument arrays (never a shell string), a minimal environment (never the
// worker's own secrets), the job's AbortSignal, stderr lines as they come, and a pipe between two programs that
// the kernel carries (the worker relays nothing). Every adapter in worker/pg/ runs its program through here.
import type { ChildProcess } from 'node:child_process';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { execa, type ResultPromise } from 'execa';
import type { ErrorCode } from '../../lib/errors';
import { ToolError } from '../../lib/jobs/tool-error';

export interface ToolSpec {
  exe: string;
  args: string[];
  /** Added to a minimal env (PATH, HOME, LANG, LC_*, TZ, TMPDIR, USER), never the worker's env. */
  env?: Record<string, string>;
  signal: AbortSignal;
  /** A Readable with an open fd (fs.ReadStream from a local storage's get) is handed to the child through the kernel. */
  stdin?: 'ignore' | Readable | Buffer | string;
  /** Default 'buffer'. 'pipe': read it from handle.stdout. 'lines': each stdout line goes to onLine too (not buffered). */
  stdout?: 'ignore' | 'buffer' | 'pipe' | 'lines' | Writable;
  /** Every stderr line, as it comes (also stdout lines if stdout: 'lines'); without the line end. */
  onLine?: (line: string) => void;
  /** Largest buffered stdout, in bytes (default 64 MiB); a tool printing more is stopped and the run throws. */
  maxBuffer?: number;
  /** Sent on abort (default SIGTERM; psql wants SIGINT, which also cancels the statement on the server). */
  killSignal?: NodeJS.Signals;
  /** SIGKILL this long after killSignal if the program is still there (default 10 s). */
  forceKillAfterMs?: number;
  cwd?: string;
}

export interface ToolResult {
  exitCode: number | null;
  signal: string | null;
  /** The buffered stdout ('' unless stdout: 'buffer'). */
  stdout: string;
  /** The last 64 KiB of stderr (whole lines); a program that could not start says why here. */
  stderrTail: string;
}

export interface ToolHandle extends Promise<ToolResult> {
  /** The program's stdout when started with stdout: 'pipe' (else null). */
  stdout: Readable | null;
  pid?: number;
  kill(): void;
}

const STDERR_KEEP = 64 * 1024;
const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;
/** What a program inherits from the worker: enough to find programs, libraries' locale and a home, nothing else. */
const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'LC_MESSAGES', 'TZ', 'TMPDIR', 'USER', 'LOGNAME'];

export function minimalEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASSED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  return { ...env, ...extra };
}

/** Splits a byte stream into lines across chunks (UTF-8 safe); `end()` hands over an unterminated last line. */
export function lineSplitter(onLine: (line: string) => void) {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  const emit = (text: string) => {
    const lines = (rest + text).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) onLine(l.endsWith('\r') ? l.slice(0, -1) : l);
  };
  return {
    write(chunk: Buffer | string) {
      emit(typeof chunk === 'string' ? chunk : decoder.write(chunk));
    },
    end() {
      emit(decoder.end());
      if (rest) onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
      rest = '';
    },
  };
}

type Internal = { stdinPipe?: boolean; stdoutTo?: Writable | number };

function fdOf(stream: unknown): number | null {
  const fd = (stream as { fd?: unknown } | null)?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

/** A socket or pipe end Node can hand to a child as it is (another child's stdin). */
const hasHandle = (stream: unknown) => Boolean((stream as { _handle?: unknown } | null)?._handle);

function start(spec: ToolSpec, internal: Internal = {}): { handle: ToolHandle; child: ResultPromise } {
  const stdoutMode = internal.stdoutTo !== undefined ? 'to' : (spec.stdout ?? 'buffer');
  const stdinStream = spec.stdin instanceof Readable ? spec.stdin : null;
  const stdinFd = stdinStream ? fdOf(stdinStream) : null;
  const stdoutSink = typeof stdoutMode === 'object' ? stdoutMode : null;
  const stdoutFd = stdoutSink ? fdOf(stdoutSink) : null;
  // A stream Node cannot hand over (no fd, no handle) is relayed by this process.
  const relayIn = stdinStream && stdinFd === null ? stdinStream : null;
  const relayOut = stdoutSink && stdoutFd === null && !hasHandle(stdoutSink) ? stdoutSink : null;

  let stdin: unknown = 'ignore';
  let input: Buffer | string | undefined;
  if (internal.stdinPipe || relayIn) stdin = 'pipe';
  else if (stdinFd !== null) stdin = stdinFd; // the child reads the file itself
  else if ((typeof spec.stdin === 'string' && spec.stdin !== 'ignore') || Buffer.isBuffer(spec.stdin)) input = spec.stdin;

  let stdout: unknown;
  if (stdoutMode === 'to') stdout = internal.stdoutTo;
  else if (stdoutMode === 'ignore') stdout = 'ignore';
  else if (stdoutSink) stdout = relayOut ? 'pipe' : (stdoutFd ?? stdoutSink);
  else stdout = 'pipe';

  const child = execa(spec.exe, spec.args, {
    env: minimalEnv(spec.env),
    extendEnv: false,
    cancelSignal: spec.signal,
    killSignal: spec.killSignal ?? 'SIGTERM',
    forceKillAfterDelay: spec.forceKillAfterMs ?? 10_000,
    reject: false,
    cwd: spec.cwd,
    ...(input !== undefined ? { input } : { stdin: stdin as 'ignore' }),
    stdout: stdout as 'pipe',
    stderr: 'pipe',
    buffer: { stdout: stdoutMode === 'buffer', stderr: false },
    maxBuffer: { stdout: spec.maxBuffer ?? DEFAULT_MAX_BUFFER },
    stripFinalNewline: false,
  });

  // On abort the program is killed, but a program it started (sh's sleep, a hook's children) may keep our pipes
  // open for as long as it lives: a second later they are let go, so a cancel never waits for them.
  const release = () => {
    const t = setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, 1000);
    t.unref();
    void child.finally(() => clearTimeout(t)).catch(() => {});
  };
  if (spec.signal.aborted) release();
  else spec.signal.addEventListener('abort', release, { once: true });
  void child.finally(() => spec.signal.removeEventListener('abort', release)).catch(() => {});

  // Relayed streams: a child that exits early makes its stdin fail (EPIPE); its exit status tells what happened.
  if (relayIn && child.stdin) pipeline(relayIn, child.stdin).catch(() => relayIn.destroy());
  const relayedOut = relayOut && child.stdout ? pipeline(child.stdout, relayOut) : Promise.resolve();
  relayedOut.catch(() => {}); // awaited below; never an unhandled rejection meanwhile

  // stderr: lines to onLine as they come, and a rolling tail for the result.
  let kept = '';
  const keep = (line: string) => {
    kept += `${line}\n`;
    if (kept.length > STDERR_KEEP * 2) kept = kept.slice(-STDERR_KEEP);
  };
  const errLines = lineSplitter((l) => {
    keep(l);
    spec.onLine?.(l);
  });
  const stderrDone = new Promise<void>((res) => {
    const s = child.stderr;
    if (!s) return res();
    s.on('data', (c: Buffer) => errLines.write(c));
    s.once('end', res).once('close', res).once('error', () => res());
  }).then(() => errLines.end());
  let stdoutDone: Promise<void> = Promise.resolve();
  if (stdoutMode === 'lines' && child.stdout) {
    const outLines = lineSplitter((l) => spec.onLine?.(l));
    stdoutDone = new Promise<void>((res) => {
      child.stdout!.on('data', (c: Buffer) => outLines.write(c));
      child.stdout!.once('end', res).once('close', res).once('error', () => res());
    }).then(() => outLines.end());
  }

  const done = (async (): Promise<ToolResult> => {
    try {
      const r = await child;
      await Promise.all([stderrDone, stdoutDone, relayedOut]);
      if (spec.signal.aborted) throw spec.signal.reason;
      if (r.isMaxBuffer) throw new Error(`${spec.exe} printed more than ${spec.maxBuffer ?? DEFAULT_MAX_BUFFER} bytes on stdout`);
      let stderrTail = kept.length > STDERR_KEEP ? kept.slice(kept.indexOf('\n', kept.length - STDERR_KEEP) + 1) : kept;
      // A program that could not start (ENOENT, EACCES) has no exit code: the reason takes stderr's place.
      const spawnError = r.exitCode === undefined && !r.signal ? (r.cause as Error | undefined)?.message ?? r.shortMessage : null;
      if (spawnError) stderrTail += `${spawnError}\n`;
      return {
        exitCode: r.exitCode ?? null,
        signal: r.signal ?? null,
        stdout: stdoutMode === 'buffer' ? String(r.stdout ?? '') : '',
        stderrTail,
      };
    } finally {
      // The fd handed to the child is the stream's own: close it once the child is gone.
      if (stdinFd !== null) stdinStream?.destroy();
    }
  })();

  const handle = Object.assign(done, {
    stdout: stdoutMode === 'pipe' ? (child.stdout as Readable | null) : null,
    pid: child.pid,
    kill: () => void child.kill(spec.killSignal ?? 'SIGTERM'),
  }) as ToolHandle;
  return { handle, child };
}

/** Starts a program; the promise settles when it has exited and its output is read, and rejects with the
 *  signal's reason when aborted. A non-zero exit is a result, not a rejection: check it with requireSuccess. */
export function runTool(spec: ToolSpec): ToolHandle {
  return start(spec).handle;
}

/**
 * producer | consumer through a kernel pipe (nothing relayed by the worker); both exit codes reported. The
 * consumer starts first and the producer writes straight into its stdin; the worker's own end of that pipe is
 * closed when the producer exits, so the consumer sees the end of its input. If the consumer dies, the
 * producer's next write fails (EPIPE). The producer's `stdout` and the consumer's `stdin` are ignored.
 */
export function pipeTools(producer: ToolSpec, consumer: ToolSpec): { producer: ToolHandle; consumer: ToolHandle } {
  const c = start({ ...consumer, stdin: undefined }, { stdinPipe: true });
  const sink = c.child.stdin!;
  sink.on('error', () => {}); // EPIPE when the consumer is gone: the exit codes tell
  const p = start({ ...producer, stdout: undefined }, { stdoutTo: sink });
  const end = () => sink.end();
  (p.child as unknown as ChildProcess).once('exit', end).once('error', end);
  p.handle.catch(end);
  return { producer: p.handle, consumer: c.handle };
}

/** The last `lines` lines of a program's output, at most 8000 characters (what a job row keeps). */
export function tail(text: string, lines = 200): string {
  const all = text.replace(/\s+$/, '').split('\n');
  let out = all.slice(-lines).join('\n');
  if (out.length > 8000) {
    out = out.slice(-8000);
    const nl = out.indexOf('\n');
    if (nl >= 0 && nl < out.length - 1) out = out.slice(nl + 1);
  }
  return out;
}

/**
 * The line that says why a program failed: the last one that names an error (ERROR:, FATAL:, "tool: error:"),
 * else the last non-empty line; without the "tool: error: " prefix. Null when stderr is empty.
 */
export function lastErrorLine(stderr: string, tool: string): string | null {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.filter((l) => /error|fatal|panic/i.test(l)).pop() ?? lines.pop();
  if (!line) return null;
  const name = tool.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return line.replace(new RegExp(`^${name}: (error: )?`), '') || line;
}

/** Throws a ToolError with `code` unless the program exited 0: "<what> failed (exit N): <last error line>". */
export function requireSuccess(r: ToolResult, what: string, code: ErrorCode): void {
  if (r.exitCode === 0) return;
  const how = r.exitCode !== null ? `exit ${r.exitCode}` : r.signal ? `killed by ${r.signal}` : 'did not start';
  const last = lastErrorLine(r.stderrTail, what.split(' ')[0]!);
  throw new ToolError(code, `${what} failed (${how})${last ? `: ${last}` : ''}.`, tail(r.stderrTail));
}

/** The levels of a job log line. */
export type LogLevel = 'info' | 'warn' | 'error';

/**
 * Batches a program's lines into the job log once a second, in order, capped at `max` lines (default 20000; then
 * one line says how many were left out); flush() at the end writes the rest. Lines naming an error are logged as
 * errors, warnings as warnings, unless the caller, which reads the program's output better, passes the level. A log
 * write that fails (the database blinked) never stops the lines after it.
 */
export function lineLogger(
  log: (line: string, level?: LogLevel) => Promise<void>,
  opts: { max?: number; tool?: string } = {},
): { onLine(l: string, level?: LogLevel): void; flush(): Promise<void> } {
  const max = opts.max ?? 20_000;
  let pending: [string, LogLevel][] = [];
  let taken = 0;
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  const levelOf = (l: string): LogLevel => (/\berror\b|^\s*(FATAL|PANIC)\b/i.test(l) ? 'error' : /\bwarning\b/i.test(l) ? 'warn' : 'info');
  const write = () => {
    const lines = pending;
    pending = [];
    // Queued in one go: the job log keeps call order, so a timer write and the last one cannot interleave.
    chain = chain.then(() => Promise.all(lines.map(([l, level]) => log(l, level))).then(() => {}, () => {}));
    return chain;
  };
  return {
    onLine(l: string, level?: LogLevel) {
      if (!l.trim()) return;
      if (taken >= max) return void dropped++;
      taken++;
      pending.push([l, level ?? levelOf(l)]);
      if (!timer) {
        timer = setInterval(() => void write(), 1000);
        timer.unref();
      }
    },
    async flush() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (dropped) {
        const note = `(${dropped} more line(s)${opts.tool ? ` of ${opts.tool}` : ''} not logged)`;
        pending.push([note, levelOf(note)]);
        dropped = 0;
      }
      await write();
    },
  };
}
