// `edgewatch`: one CLI, one subcommand per job.
import { Command } from 'commander';
import { EDGEWATCH_VERSION } from '../shared/version.js';
import { fatalText } from './options.js';
import { agentCommand } from './commands/agent.js';
import { benchCommand } from './commands/bench.js';
import { demoCommand } from './commands/demo.js';
import { hubCommand } from './commands/hub.js';
import { parseCommand } from './commands/parse.js';
import { runCommand } from './commands/run.js';
import { startCommand } from './commands/start.js';
import { topCommand } from './commands/top.js';
import { adminPasswordCommand, tokenCommand } from './commands/token.js';

const program = new Command('edgewatch')
  .description('Monitoring for ML on edge boards: an agent per device, a hub with history and a live dashboard.')
  .version(EDGEWATCH_VERSION)
  .showHelpAfterError()
  // `run` passes everything after its own options to the command it runs.
  .enablePositionalOptions()
  .addCommand(startCommand())
  .addCommand(demoCommand())
  .addCommand(hubCommand())
  .addCommand(agentCommand())
  .addCommand(runCommand())
  .addCommand(benchCommand())
  .addCommand(topCommand())
  .addCommand(parseCommand())
  .addCommand(tokenCommand())
  .addCommand(adminPasswordCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(fatalText('edgewatch', err));
  process.exit(1);
});
