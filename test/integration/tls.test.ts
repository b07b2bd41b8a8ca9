// TLS end to end. At test time, openssl makes a private CA and, signed by it, a certificate
// for 127.0.0.1 and localhost plus one for another host name. A hub serving the first is
// reached over https:// and wss:// by clients that trust the CA, and refused (with one clear
// log line, then quiet retries) by an agent that does not, or that finds the wrong name.
// The CLI's --tls-cert/--tls-key/--ca say what is wrong with missing or unreadable files.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeHubUrl, startAgent, type RunningAgent } from '../../agent/agent.js';
import type { Collector } from '../../agent/collectors/collector.js';
import { startHub, type Hub } from '../../dashboard/server/hub.js';
import { silentLogger } from '../../shared/log.js';
import { CLI, eventually, freePort, REPO_ROOT, spawnCli, type CliProcess } from '../helpers/processes.js';
import { tempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);

const HAVE_OPENSSL = !spawnSync('openssl', ['version'], { stdio: 'ignore' }).error;
if (!HAVE_OPENSSL && process.env.EDGEWATCH_REQUIRE_OPENSSL === '1') {
  throw new Error('openssl is not installed, and EDGEWATCH_REQUIRE_OPENSSL=1 says the TLS tests must run');
}

interface Certs {
  dir: string;
  ca: string;
  /** For 127.0.0.1 and localhost. */
  cert: string;
  key: string;
  /** For other.example only. */
  otherCert: string;
  otherKey: string;
}

/** A private CA and two server certificates signed by it, as PEM files in `dir`. */
async function makeCerts(dir: string): Promise<Certs> {
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir, timeout: 20_000 });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=edgewatch test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const servers: [string, string, string][] = [
    ['server', 'localhost', 'IP:127.0.0.1,DNS:localhost'],
    ['other', 'other.example', 'DNS:other.example'],
  ];
  let serial = 1000;
  for (const [name, cn, san] of servers) {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
    await openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial++), '-days', '2',
      '-out', `${name}.crt`, '-extfile', `${name}.ext`]);
  }
  const p = (f: string) => join(dir, f);
  return { dir, ca: p('ca.crt'), cert: p('server.crt'), key: p('server.key'), otherCert: p('other.crt'), otherKey: p('other.key') };
}

interface HttpsResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** GET over https with `ca` as the only trusted CA (or Node's defaults without it); 5 s at most. */
function getHttps(url: string, ca?: string | Buffer): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { agent: false, timeout: 5000, ...(ca ? { ca } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 5 s`)));
    req.on('error', reject);
  });
}

/** A debug-level logger whose lines are kept, parsed, for assertions. */
function captureLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const PINO_ERROR = 50;
const ticker: Collector = { name: 'tick', sample: (now, out) => void (out['test.tick'] = now % 1000) };

describe.skipIf(!HAVE_OPENSSL)('TLS: https/wss hub, verified by agents', () => {
  let tmp: ReturnType<typeof tempDir>;
  let certs: Certs;
  let caPem: Buffer;
  let hub: Hub;
  const stops: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    tmp = tempDir('edgewatch-tls-');
    mkdirSync(join(tmp.dir, 'certs'));
    certs = await makeCerts(join(tmp.dir, 'certs'));
    caPem = readFileSync(certs.ca);
    hub = await startHub({
      port: 0,
      host: '127.0.0.1',
      dataDir: join(tmp.dir, 'hub'),
      log: silentLogger(),
      tls: { cert: readFileSync(certs.cert), key: readFileSync(certs.key) },
    });
  });

  afterAll(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
    await hub?.close();
    tmp?.remove();
  });

  const agentAt = async (hubUrl: string, id: string, log: Logger, ca?: Buffer): Promise<RunningAgent> => {
    const agent = await startAgent({
      hubUrl,
      intervalMs: 500,
      stateDir: join(tmp.dir, `agent-${id}`),
      deviceId: id,
      spool: 'memory',
      collectors: [{ name: 'tick', detect: async () => ticker }],
      processIntervalMs: 0,
      inferencePort: null,
      skipInventory: true,
      ...(ca ? { ca } : {}),
      log,
    });
    stops.push(() => agent.stop());
    return agent;
  };

  it('serves the dashboard and API over https (with HSTS) to a client that trusts the CA', async () => {
    expect(hub.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(hub.agentUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/ws\/agent$/);
    const res = await getHttps(`${hub.url}/healthz`, caPem);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, db: 'ok' });
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    // localhost is in the certificate too.
    expect((await getHttps(`https://localhost:${hub.port}/healthz`, caPem)).status).toBe(200);
    // Without the CA, Node's default CAs do not vouch for it.
    await expect(getHttps(`${hub.url}/healthz`)).rejects.toThrow(/certificate/i);
  });

  it('maps https:// hub URLs to wss:// (and http:// to ws://)', () => {
    expect(normalizeHubUrl('https://hub.example:8443')).toBe('wss://hub.example:8443/ws/agent');
    expect(normalizeHubUrl('https://hub.example/ws/agent')).toBe('wss://hub.example/ws/agent');
    expect(normalizeHubUrl('http://hub.example:8080')).toBe('ws://hub.example:8080/ws/agent');
  });

  it('an agent given the CA connects over wss and its samples are committed', async () => {
    const { log } = captureLogger();
    // The dashboard's https:// URL, as people type it: the agent makes it wss://…/ws/agent.
    const agent = await agentAt(hub.url, 'tls-trusted', log, caPem);
    await eventually('samples committed over wss', () => (hub.store.getDevice('tls-trusted')?.lastSeq ?? 0) >= 2, 15_000, 50);
    expect(agent.connection.connected).toBe(true);
    // The hub commits before its ack reaches the agent.
    await eventually('the hub to ack over wss', () => agent.connection.stats.acked >= 2, 5000, 20);
    await agent.stop();
  });

  it('an agent without the CA does not connect, logs the certificate error once, and keeps retrying', async () => {
    const { log, lines } = captureLogger();
    const agent = await agentAt(hub.agentUrl, 'tls-untrusted', log);
    // Three failed attempts (backoff from 500 ms): the error must not be repeated for each.
    const retries = () => lines.filter((l) => l.msg === 'hub not reachable: retrying').length;
    await eventually('three refused connection attempts', () => retries() >= 3, 15_000, 50);
    await agent.stop();
    const errors = lines.filter((l) => (l.level as number) >= PINO_ERROR);
    expect(errors, JSON.stringify(errors)).toHaveLength(1);
    const [error] = errors as [Record<string, unknown>];
    expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(error.msg).toMatch(/cannot verify the hub's TLS certificate \(unable to verify the first certificate\)/);
    expect(error.msg).toMatch(/--ca <file>/);
    expect(agent.connection.stats.connects).toBe(0);
    expect(hub.store.getDevice('tls-untrusted')).toBeUndefined();
  });

  it('an agent refuses a hub whose certificate names another host, even with the right CA', async () => {
    const other = await startHub({
      port: 0,
      host: '127.0.0.1',
      dataDir: join(tmp.dir, 'hub-other'),
      log: silentLogger(),
      tls: { cert: readFileSync(certs.otherCert), key: readFileSync(certs.otherKey) },
    });
    stops.push(() => other.close());
    const { log, lines } = captureLogger();
    const agent = await agentAt(other.agentUrl, 'tls-wrong-name', log, caPem);
    await eventually('the certificate error', () => lines.some((l) => (l.level as number) >= PINO_ERROR), 15_000, 50);
    await eventually('a retry after it', () => lines.some((l) => l.msg === 'hub not reachable: retrying'), 15_000, 50);
    await agent.stop();
    const errors = lines.filter((l) => (l.level as number) >= PINO_ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(errors[0]!.msg).toMatch(/does not match certificate's altnames/);
    expect(errors[0]!.msg).toMatch(/another host name/);
    expect(agent.connection.stats.connects).toBe(0);
    expect(other.store.getDevice('tls-wrong-name')).toBeUndefined();
  });
});

describe.skipIf(!HAVE_OPENSSL)('TLS from the CLI: edgewatch hub --tls-cert/--tls-key, edgewatch agent --ca', () => {
  let tmp: ReturnType<typeof tempDir>;
  let certs: Certs;
  const procs: CliProcess[] = [];

  beforeAll(async () => {
    tmp = tempDir('edgewatch-tls-cli-');
    mkdirSync(join(tmp.dir, 'certs'));
    certs = await makeCerts(join(tmp.dir, 'certs'));
  });

  afterAll(async () => {
    for (const p of procs.splice(0)) await p.kill();
    tmp?.remove();
  });

  /** The built CLI with no EDGEWATCH_* from the developer's shell; exits within 20 s. */
  async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEWATCH_')));
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...base, ...env }, timeout: 20_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('hub: both files or neither, and each must be readable', async () => {
    const data = ['--port', '0', '--host', '127.0.0.1', '--data', join(tmp.dir, 'unused')];
    const noKey = await cli(['hub', ...data, '--tls-cert', certs.cert]);
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toMatch(/--tls-cert needs --tls-key/);
    const noCert = await cli(['hub', ...data], { EDGEWATCH_TLS_KEY: certs.key });
    expect(noCert.code).not.toBe(0);
    expect(noCert.stderr).toMatch(/--tls-key needs --tls-cert/);
    const missing = join(tmp.dir, 'missing.pem');
    const gone = await cli(['hub', ...data, '--tls-cert', missing, '--tls-key', certs.key]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain(`cannot read --tls-cert file ${missing}`);
    expect(gone.stderr).toMatch(/ENOENT/);
    // A directory where the key should be: unreadable as a file.
    const unreadable = await cli(['hub', ...data, '--tls-cert', certs.cert], { EDGEWATCH_TLS_KEY: certs.dir });
    expect(unreadable.code).not.toBe(0);
    expect(unreadable.stderr).toContain(`cannot read --tls-key file ${certs.dir}`);
    // Both readable, but the key is another certificate's.
    const mismatch = await cli(['hub', ...data, '--tls-cert', certs.cert, '--tls-key', certs.otherKey]);
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toMatch(/cannot use the TLS certificate and key: .*the private key does not belong to the certificate/);
  });

  it('agent: --ca must name a readable PEM certificate', async () => {
    const hub = ['--hub', 'wss://127.0.0.1:9/ws/agent', '--state-dir', join(tmp.dir, 'agent-unused'), '--inference-port', '0'];
    const missing = join(tmp.dir, 'no-ca.pem');
    const gone = await cli(['agent', ...hub, '--ca', missing]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain(`cannot use --ca file ${missing}`);
    expect(gone.stderr).toMatch(/ENOENT/);
    const notPem = join(tmp.dir, 'not-a-cert.pem');
    writeFileSync(notPem, 'hello\n');
    const bad = await cli(['agent', ...hub], { EDGEWATCH_CA: notPem });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/holds no PEM certificate/);
  });

  it('a CLI hub with --tls-cert/--tls-key serves https, and a CLI agent with --ca streams to it', async () => {
    const port = await freePort();
    // TLS is what is tested here, not login: where the hub has --no-auth, turn credentials off.
    const noAuth = (await cli(['hub', '--help'])).stdout.includes('--no-auth') ? ['--no-auth'] : [];
    const hub = spawnCli(['hub', '--port', String(port), '--host', '127.0.0.1', '--data', join(tmp.dir, 'hub'), ...noAuth, '--tls-cert', certs.cert], {
      EDGEWATCH_TLS_KEY: certs.key,
    });
    procs.push(hub);
    const ca = readFileSync(certs.ca);
    const base = `https://127.0.0.1:${port}`;
    await eventually(`hub /healthz over https (${hub.output().slice(-500)})`, async () => (await getHttps(`${base}/healthz`, ca)).status === 200, 15_000);
    const agent = spawnCli(['agent', '--hub', base, '--ca', certs.ca, '--interval', '500', '--state-dir', join(tmp.dir, 'agent'), '--name', 'tls-cli', '--inference-port', '0']);
    procs.push(agent);
    const health = async () => JSON.parse((await getHttps(`${base}/healthz`, ca)).body) as { agentsOnline: number; committedSamples: number };
    const h = await eventually(`the CLI agent's samples committed over wss (${agent.output().slice(-500)})`, async () => {
      const now = await health();
      return now.agentsOnline === 1 && now.committedSamples >= 2 ? now : undefined;
    }, 15_000);
    expect(h.agentsOnline).toBe(1);
    expect(agent.output()).toContain('connected to hub');
    expect(agent.output()).not.toMatch(/cannot verify the hub's TLS certificate/);
  });
});
