// `edgewatch demo`: a hub plus a replayed fleet (see demo/). Its own data directory, a fresh
// temporary one unless --data names one, so demo devices never land in a real hub's database
// by accident (EDGEWATCH_DATA is deliberately not read).
import { Command, Option } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EDGEWATCH_VERSION } from '../../shared/version.js';
import { listenHost, loginLine, noAuthOption, noAuthWarning } from '../auth-options.js';
import { localAgentToken } from '../local-agent-token.js';
import { createCliLogger, ensureWritableDir, hostOption, logOptions, portOption, runningBlock, untilSignalled, type LogCliOptions } from '../options.js';

interface DemoCliOptions extends LogCliOptions {
  port: number;
  host: string;
  data?: string;
  auth: boolean;
}

export function demoCommand(): Command {
  const command = new Command('demo')
    .description('a hub with a replayed fleet of real-looking devices (Jetsons, a Raspberry Pi, 2× H200) and this machine, for trying edgewatch without hardware')
    .addOption(portOption())
    .addOption(hostOption('127.0.0.1', 'this machine only'))
    .addOption(new Option('--data <dir>', 'keep the demo in this directory (default: a fresh temporary one, deleted at exit)'))
    .addOption(noAuthOption());
  return logOptions(command).action(async (opts: DemoCliOptions, command: Command) => {
    const given = opts.data !== undefined;
    const dataDir = given ? resolve(opts.data!) : mkdtempSync(join(tmpdir(), 'edgewatch-demo-'));
    try {
      ensureWritableDir(dataDir, '--data', 'no environment variable: demo reads none');
    } catch (err) {
      command.error(`error: ${(err as Error).message}`);
    }
    const cleanUp = (): void => {
      if (!given) rmSync(dataDir, { recursive: true, force: true });
    };
    const host = listenHost(command, opts);
    const log = createCliLogger(opts, 'hub');
    const [{ startHub }, { startAgent }, { AgentState }, { startDemoFleet }, { Credentials }, { FIXTURES }] = await Promise.all([
      import('../../dashboard/server/hub.js'),
      import('../../agent/agent.js'),
      import('../../agent/state.js'),
      import('../../demo/fleet.js'),
      import('../../dashboard/server/auth/credentials.js'),
      import('../../bench/storage-workload.js'),
    ]);
    const hub = await startHub({ port: opts.port, host, dataDir, log, version: EDGEWATCH_VERSION, auth: opts.auth }).catch((err: unknown) => {
      cleanUp();
      throw err;
    });
    let fleet: Awaited<ReturnType<typeof startDemoFleet>> | undefined;
    let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
    try {
      const creds = opts.auth ? new Credentials(hub.store) : null;
      const fleetStarted = startDemoFleet({
        agentUrl: hub.agentUrl,
        tokenFor: (id) => creds?.createDeviceToken(id).token,
        log: createCliLogger(opts, 'demo'),
        fixtures: FIXTURES,
      });
      // This machine, as `start` runs it: the real agent and its collectors, next to the replayed boards.
      const stateDir = join(dataDir, 'agent');
      // Loaded once and handed to the agent: on a state dir that cannot be written, a second load
      // would generate another id than the one the token is bound to.
      const deviceId = AgentState.load(stateDir).deviceId;
      const token = opts.auth ? localAgentToken(hub.store, stateDir, deviceId) : undefined;
      const agentStarted = startAgent({
        hubUrl: hub.agentUrl,
        ...(token ? { token } : {}),
        deviceId,
        intervalMs: 1000,
        stateDir,
        // No timing receiver: port 7262 belongs to a real agent on this machine, if one runs.
        inferencePort: null,
        log: createCliLogger(opts, 'agent'),
      });
      const [fleetResult, agentResult] = await Promise.allSettled([fleetStarted, agentStarted]);
      if (fleetResult.status === 'fulfilled') fleet = fleetResult.value;
      if (agentResult.status === 'fulfilled') agent = agentResult.value;
      if (fleetResult.status === 'rejected') throw fleetResult.reason;
      if (agentResult.status === 'rejected') throw agentResult.reason;
    } catch (err) {
      await agent?.stop();
      await fleet?.stop();
      await hub.close();
      cleanUp();
      throw err;
    }
    if (!fleet || !agent) throw new Error('demo: the fleet or the agent did not start');
    const trials = fleet.bench.trials;
    const compare = `${hub.url}#/compare?ids=${trials.map((x) => x.id).join(',')}&baseline=${trials[0]!.id}`;
    const access = opts.auth ? loginLine(hub.initialLogin, dataDir) : noAuthWarning();
    process.stdout.write(
      runningBlock([
        `edgewatch demo is running: open ${hub.url} (${fleet.deviceIds.length} replayed devices and this machine; data in ${dataDir}${given ? '' : ', deleted at exit'}). Ctrl-C stops it.`,
        access,
        `compare fp32 and int8 (5 trials each): ${compare}`,
      ]),
    );
    void fleet.history.then(({ samples }) => process.stdout.write(`demo: 24 h of history stored (${samples} samples); the compare page and history ranges are complete\n`)).catch(() => undefined);
    await untilSignalled();
    await fleet.stop();
    await agent.stop();
    await hub.close();
    cleanUp();
  });
}
