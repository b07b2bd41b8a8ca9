// Every command the README (and the docs it links) tells people to type. Each ```sh block is
// split into commands as a shell would; each `edgewatch …`, `node dist/edgewatch.mjs …` and
// `node edgewatch-agent.mjs …` (in a block or inline in the prose) must name a real subcommand
// and only real flags, read from the built CLI's own --help. Then the ones that can run here
// do, against a real `edgewatch start` hub on 127.0.0.1: the tokens are made with the README's
// own `token create`/`token create-api` commands, its agent command streams as pi4-lab, its
// worked-example `bench` runs, and every curl must answer 200 with a sensible body. What
// cannot run here is listed in EXCEPTIONS with the reason, and shows as a skipped test.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN_FILES, helpOf, type Bin, type HelpCommand } from '../helpers/cli-help.js';
import { eventually, freePort, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);

// ---- the snippets ----

interface Snippet {
  file: string;
  line: number;
  /** In a ```sh block, or a code span in the prose. */
  where: 'block' | 'inline';
  argv: string[];
}

/** Commands of a shell script, as sh splits them: quotes, backslash-newline, comments, ; && || | &. */
function shellCommands(src: string): { argv: string[]; line: number }[] {
  const out: { argv: string[]; line: number }[] = [];
  let argv: string[] = [];
  let word: string | null = null;
  let line = 1;
  let startLine = 1;
  const endWord = (): void => {
    if (word !== null) argv.push(word);
    word = null;
  };
  const endCommand = (): void => {
    endWord();
    if (argv.length > 0) out.push({ argv, line: startLine });
    argv = [];
  };
  for (let i = 0; i < src.length; ) {
    const c = src[i]!;
    if (argv.length === 0 && word === null) startLine = line;
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
      line++;
    } else if (c === '\\') {
      word = (word ?? '') + (src[i + 1] ?? '');
      i += 2;
    } else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' at line ${line}`);
      word = (word ?? '') + src.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      while (src[j] !== '"') {
        if (j >= src.length) throw new Error(`unterminated " at line ${line}`);
        if (src[j] === '\\' && '"\\$`'.includes(src[j + 1] ?? '')) {
          text += src[j + 1];
          j += 2;
        } else text += src[j++];
      }
      word = (word ?? '') + text;
      i = j + 1;
    } else if (c === '#' && word === null) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '\n' || c === ';') {
      endCommand();
      if (c === '\n') line++;
      i++;
    } else if (c === '&' || c === '|') {
      endCommand();
      i += src[i + 1] === c ? 2 : 1;
    } else if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  endCommand();
  return out;
}

/**
 * A code span in prose that is an edgewatch command: `edgewatch <word>…` or `node …edgewatch.mjs …`
 * (the other spans are names, paths, flags, and the user `edgewatch`).
 */
const INLINE_COMMAND = /^(node \S*edgewatch(-agent)?\.mjs|edgewatch(-agent)? \S)/;

function snippetsOf(file: string): Snippet[] {
  const md = readFileSync(join(REPO_ROOT, file), 'utf8');
  const lines = md.split('\n');
  const out: Snippet[] = [];
  const prose: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]!);
    if (!open) {
      prose.push(lines[i]!);
      continue;
    }
    const indent = open[1]!.length;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(indent));
    prose.push(...body.map(() => ''), '', '');
    if (open[2] !== 'sh') continue;
    for (const cmd of shellCommands(body.join('\n'))) out.push({ file, line: start + 1 + cmd.line, where: 'block', argv: cmd.argv });
  }
  // Code spans may wrap: read the prose with its line breaks, and count lines up to each span.
  const text = prose.join('\n');
  for (const m of text.matchAll(/`([^`]+)`/g)) {
    const span = m[1]!.replace(/\s+/g, ' ').trim();
    if (!INLINE_COMMAND.test(span)) continue;
    // `<hub data dir>` is one placeholder, `list|revoke` two subcommands: read as words.
    const argv = span.replace(/<[^>]*>/g, (p) => p.replace(/ /g, '_')).split(' ');
    out.push({ file, line: text.slice(0, m.index).split('\n').length, where: 'inline', argv });
  }
  return out;
}

/** README.md and the docs/*.md pages it links. */
const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const FILES = ['README.md', ...new Set([...README.matchAll(/\]\((docs\/[\w.-]+\.md)\)/g)].map((m) => m[1]!))];
const SNIPPETS = FILES.flatMap(snippetsOf);

// ---- what cannot run here ----

interface Exception {
  what: string;
  match: (argv: string[]) => boolean;
  reason: string;
}

/** Commands that are not checked here, each with why. Every one must still occur in the docs. */
const EXCEPTIONS: Exception[] = [
  { what: 'npm ci', match: (a) => a[0] === 'npm' && a[1] === 'ci', reason: 'reinstalls node_modules in the working tree that every other suite is using' },
  {
    what: 'npm start',
    match: (a) => a[0] === 'npm' && a[1] === 'start',
    reason: 'builds, then runs `edgewatch start` on port 8080 until Ctrl-C: the hub of the tests below is that `edgewatch start`, on a free port',
  },
  {
    what: 'npm run demo',
    match: (a) => a.join(' ') === 'npm run demo',
    reason: 'builds, then runs `edgewatch demo` on port 8080 until Ctrl-C: test/integration/demo.test.ts and test/browser/demo.test.ts run `edgewatch demo` on a free port',
  },
  { what: 'npm test', match: (a) => a[0] === 'npm' && a[1] === 'test', reason: 'the whole suite, this file included' },
  { what: 'npm run build', match: (a) => a.join(' ') === 'npm run build', reason: "vitest's global setup runs scripts/build.mjs before any test" },
  { what: 'scp … pi@raspberrypi.local:', match: (a) => a[0] === 'scp', reason: 'copies files to a Raspberry Pi over SSH: there is no board here' },
  { what: 'ssh pi@raspberrypi.local …', match: (a) => a[0] === 'ssh', reason: 'logs in to a Raspberry Pi: there is no board here' },
  {
    what: 'sudo ./install-agent.sh …',
    match: (a) => a[0] === 'sudo' && a[1] === './install-agent.sh',
    reason: 'installs a systemd service as root on the board (test/integration/agent-config.test.ts runs the script under --root)',
  },
  { what: 'victoria-metrics …', match: (a) => a[0] === 'victoria-metrics', reason: 'VictoriaMetrics is not installed here' },
  { what: 'vmagent …', match: (a) => a[0] === 'vmagent', reason: 'vmagent is not installed here' },
];

// ---- checking a command against --help ----

type Kind = { cli: Bin; args: string[] } | { curl: string[] } | { python: string[] } | { skip: Exception } | { unknown: true };

function classify(argv: string[]): Kind {
  if (argv[0] === 'node' && /(^|\/)edgewatch\.mjs$/.test(argv[1] ?? '')) return { cli: 'edgewatch', args: argv.slice(2) };
  if (argv[0] === 'node' && /(^|\/)edgewatch-agent\.mjs$/.test(argv[1] ?? '')) return { cli: 'edgewatch-agent', args: argv.slice(2) };
  if (argv[0] === 'edgewatch' || argv[0] === 'edgewatch-agent') return { cli: argv[0], args: argv.slice(1) };
  if (argv[0] === 'curl') return { curl: argv.slice(1) };
  if (argv[0] === 'python3' && argv[1] === 'examples/mlp_compression.py') return { python: argv.slice(1) };
  const skip = EXCEPTIONS.find((e) => e.match(argv));
  return skip ? { skip } : { unknown: true };
}

const isPlaceholder = (word: string): boolean => /^<.*>$/.test(word) || /^\[.*\]$/.test(word);

/**
 * What is wrong with `bin args…`: an unknown subcommand or flag, a flag without its value, too
 * few or too many arguments. `complete` is false for a command named in prose (`edgewatch
 * run`), whose arguments are not all there.
 */
function cliProblems(bin: Bin, args: string[], complete: boolean): string[] {
  const problems: string[] = [];
  const path: string[] = [];
  let cmd: HelpCommand = helpOf(bin, path);
  let i = 0;
  while (i < args.length && cmd.commands.length > 0 && !args[i]!.startsWith('-')) {
    const word = args[i]!;
    if (/^<.*>$/.test(word)) return problems; // `edgewatch <command> --help`: any subcommand
    const alternatives = word.split('|');
    const unknown = alternatives.filter((w) => !cmd.commands.includes(w));
    if (unknown.length > 0) {
      // The standalone agent takes options itself; a word there is an argument, not a command.
      if (cmd.args.length > 0) break;
      problems.push(`${[bin, ...path].join(' ')} has no subcommand ${unknown.join(', ')} (it has: ${cmd.commands.join(', ')})`);
      return problems;
    }
    if (alternatives.length > 1) {
      for (const alt of alternatives) problems.push(...cliProblems(bin, [...path, alt, ...args.slice(i + 1)], complete));
      return problems;
    }
    path.push(word);
    cmd = helpOf(bin, path);
    i++;
  }
  const name = [bin, ...path].join(' ');
  // A command that only groups others (`edgewatch`, `edgewatch token`) has no options of its own.
  const groupOnly = cmd.commands.length > 0 && cmd.args.length === 0 && cmd.options.every((o) => o.long === '--help' || o.long === '--version');
  if (complete && groupOnly && !args.slice(i).some((a) => a === '--help' || a === '--version')) problems.push(`${name} needs a subcommand (${cmd.commands.join(', ')})`);
  const positionals: string[] = [];
  for (; i < args.length; i++) {
    const word = args[i]!;
    if (word === '…' || word === '...') break; // the rest is elided
    if (word === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (word.startsWith('-') && word !== '-') {
      const [flag, value] = word.startsWith('--') ? [word.split('=')[0]!, word.includes('=') ? word.slice(word.indexOf('=') + 1) : undefined] : [word, undefined];
      const opt = cmd.options.find((o) => o.long === flag || o.short === flag);
      if (!opt) {
        problems.push(`${name} has no option ${flag} (it has: ${cmd.options.map((o) => o.long).join(' ')})`);
        continue;
      }
      if (opt.placeholder?.startsWith('<') && value === undefined) {
        if (i + 1 >= args.length) problems.push(`${name} ${flag} needs a value ${opt.placeholder}`);
        i++;
      } else if (!opt.placeholder && value !== undefined) problems.push(`${name} ${flag} takes no value, got ${value}`);
      continue;
    }
    positionals.push(word);
  }
  if (complete) {
    const required = cmd.args.filter((a) => a.required).length;
    const variadic = cmd.args.some((a) => a.variadic);
    if (positionals.length < required) problems.push(`${name} needs ${cmd.args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`)).join(' ')}, got ${positionals.length} argument(s)`);
    if (!variadic && positionals.length > cmd.args.length) problems.push(`${name} takes ${cmd.args.length} argument(s), got ${positionals.join(' ')}`);
  } else if (!cmd.args.some((a) => a.variadic) && positionals.filter((p) => !isPlaceholder(p)).length > cmd.args.length) {
    problems.push(`${name} takes ${cmd.args.length} argument(s), got ${positionals.join(' ')}`);
  }
  return problems;
}

const label = (s: Snippet): string => `${s.file}:${s.line} ${s.argv.join(' ').slice(0, 110)}`;

// ---- running them ----

/** Every placeholder the runnable snippets hold, and what it becomes here. */
interface Context {
  port: number;
  data: string;
  deviceToken?: string;
  apiToken?: string;
  ids?: string;
  from: number;
  to: number;
}

function substitute(word: string, ctx: Context): string {
  let w = word
    .replace(/127\.0\.0\.1:8080/g, `127.0.0.1:${ctx.port}`) // the hub of the tests is on a free port
    .replace(/<hub-host>:8080/g, `127.0.0.1:${ctx.port}`)
    // The README's export range is a day in the past of its own run: the last hour here.
    .replace(/from=1795737600000&to=1795824000000/g, `from=${ctx.from}&to=${ctx.to}`);
  if (w === './data') w = ctx.data;
  if (ctx.apiToken) w = w.replace(/ewa_…/g, ctx.apiToken);
  if (ctx.deviceToken) w = w.replace(/ewd_…/g, ctx.deviceToken);
  if (ctx.ids) w = w.replace(/<ids bench printed>/g, ctx.ids);
  if (/<[^>]*>|…/.test(w)) throw new Error(`a placeholder is left in ${JSON.stringify(w)}: substitute it in readme-snippets.test.ts`);
  return w;
}

const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEWATCH_')));

async function runCli(bin: Bin, args: string[], env: NodeJS.ProcessEnv = {}, timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN_FILES[bin], ...args], { cwd: REPO_ROOT, env: { ...baseEnv, ...env }, timeout, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs a curl snippet in a fresh directory (for -O); its status comes from an added -w. */
async function runCurl(args: string[], dir: string): Promise<{ status: number; body: string; files: Record<string, string> }> {
  mkdirSync(dir, { recursive: true });
  const { stdout } = await run('curl', [...args, '-w', '\n%{http_code}'], { cwd: dir, timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  const cut = stdout.lastIndexOf('\n');
  const files = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut), files };
}

const HAVE_CURL = await run('curl', ['--version']).then(
  () => true,
  () => false,
);
const HAVE_PYTHON = await run('python3', ['--version']).then(
  () => true,
  () => false,
);

const find = (what: string, test: (s: Snippet) => boolean): Snippet => {
  const s = SNIPPETS.find(test);
  if (!s) throw new Error(`the README no longer has ${what}: update readme-snippets.test.ts`);
  return s;
};
const cliArgs = (s: Snippet): string[] => (classify(s.argv) as { args: string[] }).args;
const curls = SNIPPETS.filter((s) => s.where === 'block' && 'curl' in classify(s.argv));

// ---- the tests ----

describe('README and docs command snippets', () => {
  it('are found: README.md and the docs it links, blocks and prose', () => {
    expect(FILES).toEqual(expect.arrayContaining(['README.md', 'docs/install-agent.md', 'docs/reverse-proxy.md', 'docs/scaling.md']));
    expect(SNIPPETS.filter((s) => s.where === 'block').length).toBeGreaterThan(15);
    expect(SNIPPETS.filter((s) => s.where === 'inline').length).toBeGreaterThan(5);
    expect(curls.length).toBeGreaterThanOrEqual(4);
    // The bench command is one command over five lines, its quoted variants one word each.
    const bench = find('the worked-example bench', (s) => s.argv.includes('bench') && s.argv.includes('--variant'));
    expect(bench.argv).toContain("dense=python3 examples/mlp_compression.py --variant dense");
  });

  it('every exception still matches a snippet (no stale entries)', () => {
    for (const e of EXCEPTIONS) expect(SNIPPETS.some((s) => e.match(s.argv)), e.what).toBe(true);
  });

  it('every command is checked, run or an explicit exception', () => {
    const unknown = SNIPPETS.filter((s) => 'unknown' in classify(s.argv)).map(label);
    expect(unknown, 'commands this test does not know what to do with: add a check or an EXCEPTIONS entry').toEqual([]);
  });

  for (const s of SNIPPETS) {
    const kind = classify(s.argv);
    if ('skip' in kind) {
      it.skip(`${label(s)} — not run here: ${kind.skip.reason}`, () => {});
    } else if ('cli' in kind) {
      it(`${label(s)}: a real subcommand and real flags`, () => {
        expect(cliProblems(kind.cli, kind.args, s.where === 'block')).toEqual([]);
      });
    }
  }

  it('the check itself refuses a wrong subcommand, flag, value or argument count', () => {
    expect(cliProblems('edgewatch', ['tokens', 'list'], true)).toEqual([expect.stringMatching(/edgewatch has no subcommand tokens/)]);
    expect(cliProblems('edgewatch', ['hub', '--prot', '8080'], true)).toEqual(expect.arrayContaining([expect.stringMatching(/edgewatch hub has no option --prot/)]));
    expect(cliProblems('edgewatch', ['token', 'create', '--data'], true)).toEqual(
      expect.arrayContaining([expect.stringMatching(/--data needs a value/), expect.stringMatching(/needs <device-id>/)]),
    );
    expect(cliProblems('edgewatch', ['token', 'create-api', 'a', 'b'], true)).toEqual([expect.stringMatching(/takes 1 argument/)]);
    expect(cliProblems('edgewatch-agent', ['--hub', 'ws://h', '--spool'], true)).toEqual([expect.stringMatching(/edgewatch-agent has no option --spool/)]);
    expect(cliProblems('edgewatch', ['token', 'list|revok'], false)).toEqual([expect.stringMatching(/has no subcommand revok/)]);
    expect(cliProblems('edgewatch', ['token'], true)).toEqual([expect.stringMatching(/needs a subcommand/)]);
  });
});

describe('README commands against a real `edgewatch start` hub', () => {
  const tmp = tempDir('edgewatch-readme-');
  const procs: CliProcess[] = [];
  let hub: CliProcess;
  let inferencePort = 0;
  const ctx: Context = { port: 0, data: join(tmp.dir, 'data'), from: Date.now() - 3_600_000, to: Date.now() + 3_600_000 };
  const auth = (): Record<string, string> => ({ authorization: `Bearer ${ctx.apiToken}` });

  beforeAll(async () => {
    ctx.port = await freePort();
    inferencePort = await freePort();
    hub = spawnCli(['start', '--port', String(ctx.port), '--data', ctx.data, '--inference-port', String(inferencePort)], { EDGEWATCH_LOG_LEVEL: 'warn' });
    procs.push(hub);
    await eventually('edgewatch start to run', () => /edgewatch is running/.test(hub.output()), 45_000).catch((err: Error) => {
      throw new Error(`${err.message}:\n${hub.output().slice(-2000)}`);
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    tmp.remove();
  });

  it('an anonymous call gets 401 (so a curl without a token would not work)', async () => {
    expect((await fetch(`http://127.0.0.1:${ctx.port}/api/v1/experiments`)).status).toBe(401);
  });

  it('`token create pi4-lab` prints a device token', async () => {
    const s = find('`token create pi4-lab`', (x) => x.file === 'README.md' && x.where === 'block' && cliArgs(x)?.[0] === 'token' && cliArgs(x)[1] === 'create');
    const r = await runCli('edgewatch', cliArgs(s).map((w) => substitute(w, ctx)));
    expect(r.code, r.stderr).toBe(0);
    ctx.deviceToken = r.stdout.trim();
    expect(ctx.deviceToken).toMatch(/^ewd_[0-9a-f]{12}_\S+$/);
  });

  it('`token create-api report` prints an API token', async () => {
    const s = find('`token create-api`', (x) => x.file === 'README.md' && x.where === 'block' && cliArgs(x)?.[0] === 'token' && cliArgs(x)[1] === 'create-api');
    const r = await runCli('edgewatch', cliArgs(s).map((w) => substitute(w, ctx)));
    expect(r.code, r.stderr).toBe(0);
    ctx.apiToken = r.stdout.trim();
    expect(ctx.apiToken).toMatch(/^ewa_[0-9a-f]{12}_\S+$/);
    expect((await fetch(`http://127.0.0.1:${ctx.port}/api/v1/experiments`, { headers: auth() })).status).toBe(200);
  });

  it('the agent command (`node edgewatch-agent.mjs --hub ws://<hub-host>:8080 --id pi4-lab --token ewd_…`) streams as pi4-lab', async () => {
    expect(ctx.deviceToken, 'needs the device token of the test before').toBeDefined();
    const s = find('the agent command to try in a terminal', (x) => x.file === 'README.md' && x.argv[0] === 'node' && /edgewatch-agent\.mjs$/.test(x.argv[1]!) && x.argv.includes('--token'));
    // The state directory and the timing port come from the environment: not this user's home, not 7262.
    const env = { ...baseEnv, EDGEWATCH_STATE_DIR: join(tmp.dir, 'pi4-lab'), EDGEWATCH_INFERENCE_PORT: '0' };
    const child = spawn(process.execPath, [BIN_FILES['edgewatch-agent'], ...cliArgs(s).map((w) => substitute(w, ctx))], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    procs.push({ child, output: () => log, exited, kill: async () => void (child.exitCode === null && child.kill('SIGTERM'), await exited) });
    await eventually(
      'pi4-lab online with samples',
      async () => {
        const res = await fetch(`http://127.0.0.1:${ctx.port}/api/v1/devices`, { headers: auth() });
        const { devices } = (await res.json()) as { devices: { id: string; online: boolean; lastSeen: number | null }[] };
        return devices.find((d) => d.id === 'pi4-lab' && d.online && d.lastSeen);
      },
      45_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; the agent printed:\n${log.slice(-2000)}`);
    });
  }, 60_000);

  it.skipIf(!HAVE_PYTHON)('`python3 examples/mlp_compression.py --describe` prints both variants', async () => {
    const s = find('the --describe command', (x) => 'python' in classify(x.argv));
    const { stdout } = await run('python3', (classify(s.argv) as { python: string[] }).python, { cwd: REPO_ROOT, timeout: 30_000 });
    expect(stdout).toMatch(/dense\s+params=203530 model_bytes=1628240/);
    expect(stdout).toMatch(/pruned\s+params=22794 model_bytes=84048/);
  });

  it.skipIf(!HAVE_PYTHON)('the worked-example `bench` runs against the local agent and prints the ids to compare', async () => {
    const s = find('the worked-example bench', (x) => x.file === 'README.md' && cliArgs(x)?.[0] === 'bench');
    // As written, but each trial inferring for 1 s instead of the script's 12 s (10 trials here).
    const args = cliArgs(s)
      .map((w) => substitute(w, ctx))
      .map((w) => (/^\w+=python3 examples\/mlp_compression\.py/.test(w) ? `${w} --seconds 1` : w));
    // `npm start &` runs the agent on its default timing port; the test's is a free one.
    const r = await runCli('edgewatch', args, { EDGEWATCH_INFERENCE_PORT: String(inferencePort) }, 150_000);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/2 variants × 5 trials, interleaved, warm-up 20 calls excluded/);
    expect(r.stdout).toMatch(/pruned vs dense: δ p50/);
    const ids = /compare on the hub: #\/compare\?ids=([^&\s]+)/.exec(r.stdout)?.[1];
    expect(ids, r.stdout).toBeDefined();
    expect(ids!.split(',')).toHaveLength(10);
    ctx.ids = ids!;
  }, 180_000);

  it.skipIf(!HAVE_CURL)('every curl in the README answers 200 with a sensible body', async () => {
    expect(ctx.apiToken, 'needs the API token of the test before').toBeDefined();
    const checked: string[] = [];
    for (const [n, s] of curls.entries()) {
      if (s.argv.some((w) => w.includes('<ids bench printed>')) && !ctx.ids) throw new Error(`${label(s)} needs the ids of the bench test (python3 missing?)`);
      const args = (classify(s.argv) as { curl: string[] }).curl.map((w) => substitute(w, ctx));
      const url = new URL(args.find((w) => /^https?:\/\//.test(w))!);
      const dir = join(tmp.dir, `curl-${n}`);
      // The hub has the data a moment after the agent sent it: ask again until it is there.
      let last = { status: 0, body: '', files: {} as Record<string, string> };
      const result = await eventually(
        `${label(s)} to answer with data`,
        async () => {
          last = await runCurl(args, join(dir, String(Date.now())));
          if (last.status !== 200) return false;
          const content = url.searchParams.has('format') && args.some((a) => /^-\w*O/.test(a)) ? Object.values(last.files)[0] ?? '' : last.body;
          return sensible(url, content) ? { ...last, content } : false;
        },
        30_000,
        500,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last answer ${last.status}: ${(last.body || JSON.stringify(last.files)).slice(0, 500)}`);
      });
      expect(result.status).toBe(200);
      checked.push(`${url.pathname}?${url.searchParams.get('format')}`);
    }
    expect(checked).toEqual(expect.arrayContaining(['/api/v1/experiments/compare?md', '/api/v1/devices/pi4-lab/export?csv', '/api/v1/devices/pi4-lab/export?ndjson']));
  }, 180_000);
});

/** Whether an answer is what its URL asks for, with data in it. */
function sensible(url: URL, content: string): boolean {
  const format = url.searchParams.get('format');
  if (url.pathname.endsWith('/experiments/compare')) {
    if (format === 'md') return /^# /.test(content) && content.includes('mlp/dense') && content.includes('mlp/pruned') && content.includes('## Figures');
    return content.length > 0;
  }
  if (url.pathname.endsWith('/export')) {
    const rows = content.split('\n').filter(Boolean);
    if (format === 'csv') {
      if (!rows[0]?.startsWith('time,t_ms')) return false;
      // Rollups hold sealed windows only: a fresh hub has none yet, so just the header.
      if (url.searchParams.get('tier') === '1m' || url.searchParams.get('tier') === '1h') return rows.length >= 1;
      return rows.length >= 2 && (url.searchParams.get('metrics') === null || rows[0].includes(url.searchParams.get('metrics')!.split(',')[0]!));
    }
    if (format === 'ndjson') {
      const objects = rows.map((r) => JSON.parse(r) as { t: number; m: Record<string, number> });
      const wanted = url.searchParams.get('metrics')?.split(',') ?? [];
      return objects.length >= 1 && objects.every((o) => typeof o.t === 'number' && Object.keys(o.m).every((k) => wanted.length === 0 || wanted.includes(k))) && objects.some((o) => typeof o.m['cpu.util'] === 'number');
    }
    return content.length > 0;
  }
  return content.length > 0;
}
