// The layering rule of DESIGN.md: lib/ is shared by the web process and the worker, so nothing in lib/ may import
// from worker/ (the worker owns the side effects and depends on lib, never the other way round).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'generated' ? [] : sources(p);
    return /\.(ts|tsx)$/.test(e.name) ? [p] : [];
  });
}

/** Every module specifier of import/export ... from, import(), require(). */
function specifiers(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

describe('layering', () => {
  it('no file in lib/ imports from worker/', () => {
    const offenders: string[] = [];
    for (const file of sources(join(root, 'lib'))) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        const target = spec.startsWith('.') ? relative(root, resolve(dirname(file), spec)) : spec.startsWith('@/') ? spec.slice(2) : null;
        if (target && (target === 'worker' || target.startsWith('worker/'))) offenders.push(`${relative(root, file)} -> ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
