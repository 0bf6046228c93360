/**
 * The house rules, checked on the code itself: no import cycles, and each layer of src/ imports only
 * the layers docs/ARCHITECTURE.md allows it (the domain nothing but itself, nothing imports the
 * composition root or its parts but the entry points), that page's map names every
 * file, and every file opens with the comment that says its job.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const SRC = 'src';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** The files of src/ each file imports (static imports, type imports and dynamic `import()`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)].map((m) =>
      normalize(join(dirname(file), `${m[1]}.ts`)),
    );
    graph.set(file, targets);
  }
  return graph;
}

/** The layer a file belongs to: its folder under src/, or the file itself at the top. */
const layerOf = (file: string) => relative(SRC, file).split('/')[0]?.replace(/\.ts$/, '') ?? '';

/** What each layer may import besides itself (docs/ARCHITECTURE.md, "Layout"). */
const ALLOWED: Record<string, readonly string[]> = {
  domain: [],
  support: ['domain'],
  config: [],
  store: ['domain', 'support'],
  chain: ['domain', 'support'],
  channels: ['domain', 'store', 'support', 'config'],
  registrar: ['domain', 'store', 'chain', 'channels', 'support', 'config'],
  http: ['domain', 'registrar', 'channels', 'chain', 'support', 'config'],
  operator: ['domain', 'store', 'chain', 'channels', 'support', 'config'],
  parts: ['domain', 'store', 'chain', 'channels', 'registrar', 'http', 'support', 'config'],
  daemon: ['parts', 'http', 'registrar', 'store', 'support', 'config'],
  main: ['daemon', 'http', 'support', 'config'],
  cli: ['main', 'operator', 'dev', 'domain', 'config', 'support'],
  dev: ['daemon', 'domain', 'store', 'chain', 'support', 'config', 'http'],
};

describe('the layout', () => {
  const graph = importGraph();

  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('keeps each layer to the layers below it', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      const allowed = ALLOWED[from];
      if (!allowed) {
        wrong.push(`${file}: a layer the architecture does not name`);
        continue;
      }
      for (const target of targets) {
        const to = layerOf(target);
        if (to !== from && !allowed.includes(to)) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("names every file of src/ in docs/ARCHITECTURE.md's map, in its folder's row", () => {
    const map = readFileSync('docs/ARCHITECTURE.md', 'utf8').split('## Layout')[1]?.split('### ')[0] ?? '';
    const rows = map.split('\n').filter((line) => line.startsWith('| `src/'));
    const unnamed = sources(SRC).filter((file) => {
      // A file in a folder of a layer is named by that folder (`stand-ins/`).
      const [folder, inner, nested] = relative(SRC, file).split('/');
      const name = nested === undefined ? inner : `${inner}/`;
      if (name === undefined) return !rows.some((row) => row.startsWith(`| \`src/${folder}\``));
      const row = rows.find((r) => r.startsWith(`| \`src/${folder}/\``));
      return !row?.includes(`\`${name}\``);
    });
    expect(unnamed).toEqual([]);
  });

  it('opens every file with a comment that says its job', () => {
    const silent = sources(SRC).filter(
      (file) =>
        !/^\s*\/(\*\*|\/)/.test(
          readFileSync(file, 'utf8')
            .replace(/^#!.*\n/, '')
            .slice(0, 8),
        ),
    );
    expect(silent).toEqual([]);
  });

  it('leaves no file and folder of the same name side by side', () => {
    const clashes = sources(SRC)
      .map((file) => file.replace(/\.ts$/, ''))
      .filter((stem) => sources(SRC).some((other) => other.startsWith(`${stem}/`)));
    expect(clashes).toEqual([]);
  });
});
