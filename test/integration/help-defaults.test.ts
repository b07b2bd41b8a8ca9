// `--help` of every edgewatch and edgewatch-agent command shows defaults as people write them
// (100MB, 7d, 1s): no bare number of milliseconds or bytes above 9999, no bare number at all for
// a duration or a size; and what it shows parses back to the value the command really uses.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { agentCommand } from '../../cli/commands/agent.js';
import { hubCommand } from '../../cli/commands/hub.js';
import { startCommand } from '../../cli/commands/start.js';
import { parseDuration, parseSize } from '../../cli/options.js';
import { allCommands, BIN_FILES, commandName, helpOf, type HelpOption } from '../helpers/cli-help.js';
import { REPO_ROOT } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const commands = [...allCommands('edgewatch'), ...allCommands('edgewatch-agent')];

/** The parser for an option's value, from its placeholder: `<duration>`, `<size>`. */
function unitParser(placeholder: string | undefined): ((raw: string) => number) | undefined {
  if (!placeholder) return undefined;
  if (/duration/.test(placeholder)) return parseDuration;
  if (/size|bytes/.test(placeholder)) return parseSize;
  return undefined;
}

const camel = (flag: string): string => flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

describe('--help defaults', () => {
  it('reads the help of every command of both CLIs', () => {
    const names = commands.map(commandName);
    for (const name of ['edgewatch', 'edgewatch start', 'edgewatch hub', 'edgewatch agent', 'edgewatch bench', 'edgewatch run', 'edgewatch token create-api', 'edgewatch admin-password', 'edgewatch-agent', 'edgewatch-agent bench', 'edgewatch-agent parse']) {
      expect(names).toContain(name);
    }
    expect(helpOf('edgewatch', ['agent']).options.find((o) => o.long === '--spool-max')?.placeholder).toBe('<size>');
  });

  it('shows no default that is a bare number above 9999 (milliseconds or bytes)', () => {
    const offenders: string[] = [];
    for (const cmd of commands) {
      // Entries wrap over lines: read the text as one line.
      const flat = cmd.text.replace(/\s+/g, ' ');
      for (const m of flat.matchAll(/default:? (\d+(?:\.\d+)?)(?![\w.%°])/g)) {
        if (Number(m[1]) > 9999) offenders.push(`${commandName(cmd)}: …${flat.slice(Math.max(0, m.index - 60), m.index + m[0].length + 5)}…`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('shows every duration and size default with its unit (1s, 7d, 100MB), not a bare number', () => {
    const offenders: string[] = [];
    for (const cmd of commands) {
      for (const opt of cmd.options) {
        if (unitParser(opt.placeholder) && opt.shownDefault !== undefined && /^\d+(\.\d+)?$/.test(opt.shownDefault) && opt.shownDefault !== '0') {
          offenders.push(`${commandName(cmd)} ${opt.long}: default ${opt.shownDefault}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('each shown default parses back to the value the option really defaults to (agent, hub, start)', () => {
    const checked: string[] = [];
    for (const command of [agentCommand(), hubCommand(), startCommand()] as Command[]) {
      for (const opt of command.options) {
        if (opt.defaultValueDescription === undefined) continue;
        const parse = unitParser(/[<[][^>\]]*[>\]]/.exec(opt.flags)?.[0]);
        expect(parse, `${command.name()} ${opt.long}: a described default needs a unit parser`).toBeDefined();
        expect(parse!(opt.defaultValueDescription), `${command.name()} ${opt.long} --help says ${opt.defaultValueDescription}`).toBe(opt.defaultValue);
        checked.push(`${command.name()} ${opt.long}`);
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining(['agent --interval', 'agent --spool-max', 'agent --spool-max-age', 'agent --process-interval', 'start --interval', 'hub --keep-raw', 'start --keep-1h']),
    );
  });

  it('the standalone agent runs with the same values as before (--print-config), and each default it shows parses to them', () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEWATCH_')));
    // An empty config file: whatever /etc/edgewatch/agent.json holds on this machine stays out of it.
    const tmp = tempDir();
    const config0 = join(tmp.dir, 'agent.json');
    writeFileSync(config0, '{}\n');
    const out = execFileSync(process.execPath, [BIN_FILES['edgewatch-agent'], '--hub', 'ws://127.0.0.1:1/ws/agent', '--config', config0, '--print-config'], {
      cwd: REPO_ROOT,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    tmp.remove();
    const config = JSON.parse(out) as Record<string, unknown>;
    expect(config).toMatchObject({ interval: 1000, spoolMax: 100_000_000, spoolMaxAge: 7 * 86_400_000, processInterval: 5000, buffer: 3600, topProcesses: 10 });
    const shown = helpOf('edgewatch-agent', []).options.filter((o): o is HelpOption & { shownDefault: string } => o.shownDefault !== undefined && camel(o.long) in config);
    expect(shown.length).toBeGreaterThan(8);
    for (const opt of shown) {
      const parse = unitParser(opt.placeholder);
      const value = parse ? parse(opt.shownDefault) : opt.shownDefault.startsWith('"') ? JSON.parse(opt.shownDefault) : Number(opt.shownDefault);
      expect(value, `${opt.long}: --help shows ${opt.shownDefault}`).toEqual(config[camel(opt.long)]);
    }
  });
});
