// What the built CLIs say about themselves: `--help` of every command of dist/edgewatch.mjs and
// dist/edgewatch-agent.mjs, parsed into subcommands, arguments and options (with the default
// each option shows). Tests check README commands and --help defaults against it.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.js';

export type Bin = 'edgewatch' | 'edgewatch-agent';

export const BIN_FILES: Record<Bin, string> = {
  edgewatch: join(REPO_ROOT, 'dist/edgewatch.mjs'),
  'edgewatch-agent': join(REPO_ROOT, 'dist/edgewatch-agent.mjs'),
};

export interface HelpOption {
  long: string;
  short?: string;
  /** `<value>` or `[value]` after the flag, if it takes one. */
  placeholder?: string;
  /** The whole entry on one line (flags, description, choices, default, env). */
  text: string;
  /** What `(default: …)` shows, as printed (strings keep their quotes). */
  shownDefault?: string;
}

export interface HelpArgument {
  name: string;
  required: boolean;
  variadic: boolean;
}

export interface HelpCommand {
  bin: Bin;
  path: string[];
  args: HelpArgument[];
  options: HelpOption[];
  /** Subcommand names (without `help`). */
  commands: string[];
  /** The help text as printed. */
  text: string;
}

/** Entries of one section ("Options:", "Commands:", …): each on one line, continuations joined. */
function section(text: string, title: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l === `${title}:`);
  if (start < 0) return [];
  const entries: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || !line.startsWith(' ')) break;
    if (/^ {2}\S/.test(line)) entries.push(line.trim());
    else if (entries.length > 0) entries[entries.length - 1] += ` ${line.trim()}`;
  }
  return entries;
}

function parseOption(entry: string): HelpOption {
  const m = /^(?:(-[A-Za-z]), )?(--[\w-]+)(?: ([<[][^>\]]*[>\]]))?/.exec(entry);
  if (!m) throw new Error(`cannot read the option entry ${JSON.stringify(entry)}`);
  const shown = /\bdefault: ("(?:[^"\\]|\\.)*"|[^,)]+)/.exec(entry)?.[1];
  return { long: m[2]!, ...(m[1] ? { short: m[1] } : {}), ...(m[3] ? { placeholder: m[3] } : {}), text: entry, ...(shown !== undefined ? { shownDefault: shown } : {}) };
}

const cache = new Map<string, HelpCommand>();

/** `--help` of `bin path…`, parsed; cached. */
export function helpOf(bin: Bin, path: string[]): HelpCommand {
  const key = `${bin} ${path.join(' ')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEWATCH_')));
  // Not a terminal: commander wraps at 80 columns; entries are joined back into one line below.
  const text = execFileSync(process.execPath, [BIN_FILES[bin], ...path, '--help'], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 20_000 });
  const usage = /^Usage: (.*)$/m.exec(text)?.[1] ?? '';
  const args = (usage.match(/<[^>]+>|\[[^\]]+\]/g) ?? [])
    .filter((a) => a !== '[options]' && a !== '[command]')
    .map((a) => ({ name: a.slice(1, -1).replace(/\.\.\.$/, ''), required: a.startsWith('<'), variadic: a.endsWith('...>') || a.endsWith('...]') }));
  const commands = section(text, 'Commands')
    .map((e) => e.split(/\s/)[0]!.split('|')[0]!)
    .filter((name) => name !== 'help');
  const parsed: HelpCommand = { bin, path, args, options: section(text, 'Options').map(parseOption), commands, text };
  cache.set(key, parsed);
  return parsed;
}

/** Every command of a CLI, the root first, found by walking the help of each. */
export function allCommands(bin: Bin): HelpCommand[] {
  const out: HelpCommand[] = [];
  const walk = (path: string[]): void => {
    const cmd = helpOf(bin, path);
    out.push(cmd);
    for (const sub of cmd.commands) walk([...path, sub]);
  };
  walk([]);
  return out;
}

/** `edgewatch token create`: how a command is named in messages. */
export function commandName(cmd: Pick<HelpCommand, 'bin' | 'path'>): string {
  return [cmd.bin, ...cmd.path].join(' ');
}
