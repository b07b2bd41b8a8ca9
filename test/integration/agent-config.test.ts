// The agent's settings as an installer leaves them: a JSON config file, env vars and flags
// (in that order of precedence), `--print-config`, and scripts/install-agent.sh writing the
// systemd unit and config under a scratch root.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const AGENT = join(REPO_ROOT, 'dist/edgewatch-agent.mjs');
const INSTALL = join(REPO_ROOT, 'scripts/install-agent.sh');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  // A clean environment: an EDGEWATCH_* variable from the developer's shell must not leak in.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEWATCH_')));
  try {
    const { stdout, stderr } = await run(file, args, { env: { ...base, ...env }, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const agent = (args: string[], env?: NodeJS.ProcessEnv) => exec(process.execPath, [AGENT, ...args], env);

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function scratch(): string {
  const { dir, remove } = tempDir('edgewatch-config-');
  cleanups.push(remove);
  return dir;
}

describe('agent config file', () => {
  it('fills in settings from the file; env beats the file and flags beat env', async () => {
    const dir = scratch();
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ hub: 'ws://file.example:8080/ws/agent', name: 'from-file', interval: '2s', topProcesses: 5, disable: 'filesystem' }));
    const r = await agent(['--config', file, '--print-config', '--interval', '750ms'], { EDGEWATCH_NAME: 'from-env' });
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(config).toMatchObject({ hub: 'ws://file.example:8080/ws/agent', name: 'from-env', interval: 750, topProcesses: 5, disable: ['filesystem'] });
    expect(r.stderr).toMatch(/^hub: config$/m);
    expect(r.stderr).toMatch(/^name: env$/m);
    expect(r.stderr).toMatch(/^interval: cli$/m);
    expect(r.stderr).toMatch(/^buffer: default$/m);
  });

  it('rejects a config file with an unknown key or a bad value, naming the file and the key', async () => {
    const dir = scratch();
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ hub: 'ws://h/ws/agent', intervall: '1s' }));
    const typo = await agent(['--config', file, '--print-config']);
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toContain(file);
    expect(typo.stderr).toMatch(/intervall/);

    writeFileSync(file, JSON.stringify({ interval: 'fast' }));
    const bad = await agent(['--config', file, '--print-config']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/interval: "fast" is not a duration/);

    writeFileSync(file, '{ "hub": ');
    const notJson = await agent(['--config', file, '--print-config']);
    expect(notJson.stderr).toMatch(/is not valid JSON/);

    const missing = await agent(['--config', join(dir, 'nope.json'), '--print-config']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/nope\.json does not exist/);
  });

  it('takes the inference receiver settings from the file, env and flags, defaulting to 7262 on loopback', async () => {
    const defaults = await agent(['--print-config']);
    expect(JSON.parse(defaults.stdout)).toMatchObject({ inferencePort: 7262, inferenceHost: '127.0.0.1' });
    expect(defaults.stderr).toMatch(/^inferencePort: default$/m);

    const dir = scratch();
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ inferencePort: 0, inferenceHost: '0.0.0.0' }));
    const fromFile = await agent(['--config', file, '--print-config']);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ inferencePort: 0, inferenceHost: '0.0.0.0' });
    const fromEnv = await agent(['--config', file, '--print-config'], { EDGEWATCH_INFERENCE_PORT: '9000' });
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({ inferencePort: 9000 });
    const fromFlag = await agent(['--config', file, '--print-config', '--inference-port', '9001'], { EDGEWATCH_INFERENCE_PORT: '9000' });
    expect(JSON.parse(fromFlag.stdout)).toMatchObject({ inferencePort: 9001 });

    const badFlag = await agent(['--print-config', '--inference-port', '70000']);
    expect(badFlag.code).not.toBe(0);
    expect(badFlag.stderr).toMatch(/"70000" is not a TCP port/);
    writeFileSync(file, JSON.stringify({ inferencePort: 'udp' }));
    const badFile = await agent(['--config', file, '--print-config']);
    expect(badFile.code).not.toBe(0);
    expect(badFile.stderr).toMatch(/inferencePort/);
  });

  it('takes the spool bounds from the file, env and flags as sizes and durations, defaulting to 100 MB and 7 days', async () => {
    const defaults = await agent(['--print-config']);
    expect(JSON.parse(defaults.stdout)).toMatchObject({ spoolMax: 100_000_000, spoolMaxAge: 7 * 86_400_000 });
    expect(defaults.stderr).toMatch(/^spoolMax: default$/m);

    const dir = scratch();
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ spoolMax: '20MB', spoolMaxAge: '12h' }));
    const fromFile = await agent(['--config', file, '--print-config']);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ spoolMax: 20_000_000, spoolMaxAge: 12 * 3_600_000 });
    const fromEnv = await agent(['--config', file, '--print-config'], { EDGEWATCH_SPOOL_MAX: '1GiB', EDGEWATCH_SPOOL_MAX_AGE: '2d' });
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({ spoolMax: 1024 ** 3, spoolMaxAge: 2 * 86_400_000 });
    const fromFlag = await agent(['--config', file, '--print-config', '--spool-max', '512KB', '--spool-max-age', '90m']);
    expect(JSON.parse(fromFlag.stdout)).toMatchObject({ spoolMax: 512_000, spoolMaxAge: 90 * 60_000 });

    const badFlag = await agent(['--print-config', '--spool-max', 'lots']);
    expect(badFlag.code).not.toBe(0);
    expect(badFlag.stderr).toMatch(/"lots" is not a size/);
    writeFileSync(file, JSON.stringify({ spoolMaxAge: 'a week' }));
    const badFile = await agent(['--config', file, '--print-config']);
    expect(badFile.code).not.toBe(0);
    expect(badFile.stderr).toMatch(/spoolMaxAge/);
  });

  it('refuses to disable a collector that does not exist, listing the known ones', async () => {
    const r = await agent(['--hub', 'ws://127.0.0.1:9/ws/agent', '--disable', 'cpu,warp-drive', '--state-dir', scratch()]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown collectors warp-drive; known: cpu, load/);
  });
});

describe('scripts/install-agent.sh', () => {
  it('writes the agent, a valid config and the systemd unit under --root, and keeps an existing config', async () => {
    const root = scratch();
    const token = `ewd_0123456789ab_${'x'.repeat(43)}`;
    const first = await exec('bash', [INSTALL, '--root', root, '--hub', 'ws://hub.lab:8080/ws/agent', '--name', 'pi-4-bench', '--id', 'pi-4-bench', '--token', token]);
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(join(root, 'opt/edgewatch/edgewatch-agent.mjs'))).toEqual(readFileSync(AGENT));
    const configFile = join(root, 'etc/edgewatch/agent.json');
    expect(JSON.parse(readFileSync(configFile, 'utf8'))).toMatchObject({ hub: 'ws://hub.lab:8080/ws/agent', name: 'pi-4-bench', id: 'pi-4-bench', token });
    // It holds a secret: not world-readable.
    expect(statSync(configFile).mode & 0o007).toBe(0);
    const unit = readFileSync(join(root, 'etc/systemd/system/edgewatch-agent.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} /opt/edgewatch/edgewatch-agent.mjs --config /etc/edgewatch/agent.json`);
    expect(unit).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^SupplementaryGroups=video$/m);

    // The installed agent reads the installed config.
    const printed = await agent(['--config', configFile, '--print-config']);
    expect(JSON.parse(printed.stdout)).toMatchObject({ hub: 'ws://hub.lab:8080/ws/agent', name: 'pi-4-bench', interval: 1000, processInterval: 5000 });
    expect(printed.stdout).not.toContain(token); // the token is shown redacted

    writeFileSync(configFile, JSON.stringify({ hub: 'ws://edited/ws/agent' }));
    const again = await exec('bash', [INSTALL, '--root', root]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('keeping');
    expect(JSON.parse(readFileSync(configFile, 'utf8'))).toEqual({ hub: 'ws://edited/ws/agent' });
  });

  it('refuses a first install without a hub, and a config the agent cannot read', async () => {
    const root = scratch();
    const noHub = await exec('bash', [INSTALL, '--root', root]);
    expect(noHub.code).toBe(2);
    expect(noHub.stderr).toMatch(/--hub is required/);

    const broken = scratch();
    await exec('bash', [INSTALL, '--root', broken, '--hub', 'ws://h/ws/agent']);
    writeFileSync(join(broken, 'etc/edgewatch/agent.json'), '{"interval": "soon"}');
    const bad = await exec('bash', [INSTALL, '--root', broken]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/"soon" is not a duration/);
  });

  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))('ships a unit that systemd-analyze accepts', async () => {
    const r = await exec('/usr/bin/systemd-analyze', ['verify', join(REPO_ROOT, 'deploy/edgewatch-agent.service')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
