// Authentication through the built CLI: token create/list/revoke, admin-password, `hub`
// refusing --no-auth on a network address, an agent with and without a token, and `start`
// printing the login once while its own agent streams with no manual step.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, eventually, freePort, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEWATCH_')));
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, timeout: 20_000, env: { ...base, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function loginCookie(base: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'admin', password }) });
  if (res.status !== 204) throw new Error(`login: ${res.status}`);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

async function devices(base: string, auth: Record<string, string>): Promise<{ id: string; name: string; online: boolean; lastSeen: number | null }[]> {
  const res = await fetch(`${base}/api/v1/devices`, { headers: auth });
  if (!res.ok) throw new Error(`devices: ${res.status}`);
  return ((await res.json()) as { devices: { id: string; name: string; online: boolean; lastSeen: number | null }[] }).devices;
}

const procs: CliProcess[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  dirs.forEach((d) => d.remove());
});
function scratch(): string {
  const d = tempDir('edgewatch-auth-');
  dirs.push(d);
  return d.dir;
}

describe('edgewatch token / admin-password', () => {
  it('creates, lists and revokes tokens without ever listing a secret; resets the admin password', async () => {
    const data = scratch();
    const created = await cli(['token', 'create', 'board-7', '--data', data]);
    expect(created.code, created.stderr).toBe(0);
    const device = created.stdout.trim();
    expect(device).toMatch(/^ewd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const api = (await cli(['token', 'create-api', 'grafana', '--data', data])).stdout.trim();
    expect(api).toMatch(/^ewa_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const deviceId = device.slice(4, 16);
    const apiId = api.slice(4, 16);

    const list = await cli(['token', 'list', '--data', data]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/ID\s+KIND\s+DEVICE\/NAME\s+CREATED\s+LAST USED\s+REVOKED/);
    expect(list.stdout).toMatch(new RegExp(`${deviceId}\\s+device\\s+board-7\\s+\\S+Z\\s+-\\s+-`));
    expect(list.stdout).toMatch(new RegExp(`${apiId}\\s+api\\s+grafana`));
    expect(list.stdout).not.toContain(device.slice(17));
    expect(list.stdout).not.toContain(api.slice(17));

    expect((await cli(['token', 'revoke', deviceId, '--data', data])).stdout).toMatch(`revoked ${deviceId}`);
    expect((await cli(['token', 'revoke', deviceId, '--data', data])).stdout).toMatch(/already revoked/);
    const unknown = await cli(['token', 'revoke', 'aaaaaaaaaaaa', '--data', data]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no token with id aaaaaaaaaaaa/);
    const json = JSON.parse((await cli(['token', 'list', '--json', '--data', data])).stdout) as { id: string; revokedAt: number | null }[];
    expect(json.find((t) => t.id === deviceId)!.revokedAt).toBeGreaterThan(0);
    expect(json.find((t) => t.id === apiId)!.revokedAt).toBeNull();

    const pw = await cli(['admin-password', '--data', data]);
    expect(pw.code).toBe(0);
    expect(pw.stdout).toMatch(/^login: user admin, password [2-9a-z]{5}(-[2-9a-z]{5}){3}\n$/);

    const missing = await cli(['token', 'list', '--data', join(data, 'nope')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no hub database in/);
  });

  it('hub --no-auth refuses a non-loopback --host', async () => {
    const r = await cli(['hub', '--no-auth', '--host', '0.0.0.0', '--port', '0', '--data', scratch()]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--no-auth needs a loopback --host.*not 0\.0\.0\.0/);
  });

  it('agent --print-config shows the token redacted', async () => {
    const token = `ewd_0123456789ab_${'x'.repeat(43)}`;
    const r = await run(process.execPath, [join(REPO_ROOT, 'dist/edgewatch-agent.mjs'), '--hub', 'ws://h/ws/agent', '--print-config'], {
      env: { ...process.env, EDGEWATCH_TOKEN: token },
    });
    const config = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(config.token).toBe('ewd_0123456789ab_…');
    expect(r.stdout).not.toContain('x'.repeat(43));
  });
});

describe('hub with auth, agents with tokens', () => {
  it('prints the first login once, streams from an agent with a token, refuses one without, and cuts a revoked one', async () => {
    const data = scratch();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const hub = spawnCli(['hub', '--port', String(port), '--host', '127.0.0.1', '--data', data]);
    procs.push(hub);
    const pwLine = await eventually('the login line', () => /login: user admin, password (\S+)/.exec(hub.output())?.[1]);
    // Only on stdout: the JSON log lines never carry it.
    expect(hub.output().split('\n').filter((l) => l.startsWith('{') && l.includes(pwLine))).toEqual([]);
    const cookie = { cookie: await loginCookie(base, pwLine) };

    const token = (await cli(['token', 'create', 'auth-agent', '--data', data])).stdout.trim();
    const agent = spawnCli(['agent', '--hub', `ws://127.0.0.1:${port}`, '--id', 'auth-agent', '--name', 'with-token', '--interval', '500ms', '--inference-port', '0', '--state-dir', join(data, 'a1'), '--token', token]);
    const stranger = spawnCli(['agent', '--hub', `ws://127.0.0.1:${port}`, '--id', 'no-token', '--interval', '500ms', '--inference-port', '0', '--state-dir', join(data, 'a2')]);
    procs.push(agent, stranger);
    await eventually('the agent with a token online', async () => (await devices(base, cookie)).find((d) => d.id === 'auth-agent' && d.online && d.lastSeen), 20_000);
    await eventually('the agent without a token to say why', () => /token is missing/.test(stranger.output()));
    // Said once, not at every retry.
    await new Promise((r) => setTimeout(r, 2000));
    expect(stranger.output().match(/the hub refused this agent: its token is missing/g)).toHaveLength(1);
    expect((await devices(base, cookie)).find((d) => d.id === 'no-token')).toBeUndefined();

    const id = token.slice(4, 16);
    expect((await cli(['token', 'revoke', id, '--data', data])).code).toBe(0);
    await eventually('the revoked agent to be cut off', async () => (await devices(base, cookie)).find((d) => d.id === 'auth-agent' && !d.online), 8000);
    await eventually('the revoked agent to log why', () => /invalid or revoked/.test(agent.output()), 10_000);
    const list = await cli(['token', 'list', '--data', data]);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+device\\s+auth-agent\\s+\\S+Z\\s+\\S+Z\\s+\\S+Z`));

    await Promise.all([agent.kill(), stranger.kill()]);
    await hub.kill();
    // Restarted, it does not print a password again.
    const again = spawnCli(['hub', '--port', String(port), '--host', '127.0.0.1', '--data', data]);
    procs.push(again);
    await eventually('the hub to listen again', async () => (await fetch(`${base}/healthz`)).ok);
    expect(again.output()).not.toMatch(/password [2-9a-z]{5}-/);
    await again.kill();
  }, 90_000);
});

describe('edgewatch start with auth', () => {
  it('prints the login right after the running line, once; its own agent streams with no manual step', async () => {
    const data = scratch();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const args = ['start', '--port', String(port), '--data', data, '--interval', '500ms', '--inference-port', '0'];
    const first = spawnCli(args);
    procs.push(first);
    const password = await eventually('the login line', () => /\nlogin: user admin, password (\S+)\n/.exec(first.output())?.[1], 20_000);
    expect(first.output()).toMatch(new RegExp(`edgewatch is running: open ${base.replace(/\./g, '\\.')} \\(data in .*\\)\\. Ctrl-C stops it\\.\\nlogin: user admin, password ${password}\\n`));
    const cookie = { cookie: await loginCookie(base, password) };
    const local = await eventually('the local agent streaming', async () => (await devices(base, cookie)).find((d) => d.online && d.lastSeen), 20_000);
    expect((await fetch(`${base}/api/v1/devices`)).status).toBe(401);
    await first.kill();

    const second = spawnCli(args);
    procs.push(second);
    await eventually('the second start', () => /edgewatch is running/.test(second.output()), 20_000);
    expect(second.output()).toContain(`login: user admin (password printed at first start; reset with: edgewatch admin-password --data ${data})`);
    expect(second.output()).not.toContain(password);
    const before = local.lastSeen!;
    await eventually('the local agent streaming again (same token reused)', async () => (await devices(base, cookie)).find((d) => d.id === local.id && d.online && d.lastSeen! > before), 20_000);
    await second.kill();
    const tokens = JSON.parse((await cli(['token', 'list', '--json', '--data', data])).stdout) as { subject: string; revokedAt: number | null }[];
    expect(tokens.filter((t) => t.subject === local.id)).toHaveLength(1);
  }, 90_000);

  it('start --no-auth warns that anyone on this machine can read and write', async () => {
    const port = await freePort();
    const p = spawnCli(['start', '--no-auth', '--port', String(port), '--data', scratch(), '--inference-port', '0']);
    procs.push(p);
    await eventually('the running line', () => /edgewatch is running/.test(p.output()), 20_000);
    expect(p.output()).toMatch(/anyone on this machine can read and write/);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/devices`)).status).toBe(200);
    await p.kill();
  }, 60_000);
});
