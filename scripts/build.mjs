// Builds what `npm start`, the tests and the Docker images run:
//   dist/edgewatch.mjs  the CLI (hub, agent, parse, start); npm packages stay external
//   dist/edgewatch-agent.mjs  the agent alone with every dependency inside: one file to copy
//                       to a Pi or Jetson that has Node ≥ 18 and nothing else
//   dist/bench.mjs      the benchmark runner behind `npm run bench`
//   dist/web/           the browser UI: app.js (chart.js bundled in) plus the static files
//   dist/sdk.mjs        `edgewatch/sdk`, the client user code reports inference timings with:
//                       self-contained, Node built-ins only; dist/sdk/index.d.ts its types
//                       (emitted by tsc from sdk/tsconfig.json, in parallel with esbuild)
// esbuild takes well under a second; type checking is `npm run typecheck`.
import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(join(dist, 'web'), { recursive: true, force: true });
rmSync(join(dist, 'chunks'), { recursive: true, force: true });
mkdirSync(join(dist, 'web'), { recursive: true });

const node = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
};

// Declarations for edgewatch/sdk: a second process so it overlaps the bundling, and skipped
// when dist/sdk/index.d.ts is newer than its sources (tsc takes about a second).
const mtime = (p) => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const sdkTypesFresh = mtime(join(dist, 'sdk/index.d.ts')) > Math.max(mtime(join(root, 'sdk/index.ts')), mtime(join(root, 'sdk/tsconfig.json')));
const sdkTypes = sdkTypesFresh
  ? Promise.resolve()
  : new Promise((resolve, reject) => {
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      execFile(process.execPath, [tsc, '-p', join(root, 'sdk/tsconfig.json')], { cwd: root }, (err, stdout, stderr) => {
        if (err) reject(new Error(`sdk declarations: ${stdout}${stderr}`));
        else resolve();
      });
    });

await Promise.all([
  sdkTypes,
  build({
    ...node,
    // Self-contained: only Node built-ins stay imports (test/sdk checks that no zod or other
    // package got bundled in).
    entryPoints: [join(root, 'sdk/index.ts')],
    outfile: join(dist, 'sdk.mjs'),
    packages: 'bundle',
    external: ['node:*'],
    target: 'node18',
  }),
  build({
    ...node,
    // Split so each subcommand loads only what it runs: `edgewatch agent` never loads
    // Express or better-sqlite3 (shared code lands in dist/chunks/).
    entryPoints: { edgewatch: join(root, 'cli/edgewatch.ts') },
    outdir: dist,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    banner: { js: '#!/usr/bin/env node' },
  }),
  build({
    ...node,
    entryPoints: [join(root, 'cli/agent-only.ts')],
    outfile: join(dist, 'edgewatch-agent.mjs'),
    packages: 'bundle',
    target: 'node18',
    // ws tries these optional native speed-ups and falls back to JS without them.
    external: ['bufferutil', 'utf-8-validate'],
    // Bundled CommonJS dependencies call require(); give the ES module one.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __edgewatchRequire } from 'node:module';\nconst require = __edgewatchRequire(import.meta.url);" },
    minify: true,
  }),
  build({ ...node, entryPoints: [join(root, 'bench/main.ts')], outfile: join(dist, 'bench.mjs') }),
  build({
    entryPoints: [join(root, 'dashboard/web/src/main.ts')],
    outfile: join(dist, 'web/app.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  }),
]);
cpSync(join(root, 'dashboard/web/public'), join(dist, 'web'), { recursive: true });
