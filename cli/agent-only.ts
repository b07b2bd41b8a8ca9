// `edgewatch-agent`: the agent and the parsers in one self-contained file
// (dist/edgewatch-agent.mjs, every dependency bundled in) for boards with Node and nothing
// else: no npm install, no compiler, no SQLite. Same options as `edgewatch agent`, plus
// `run` (an experiment around a command), `bench` (variants compared over repeated trials)
// and `parse`.
import './lean-v8.js';
import { EDGEWATCH_VERSION } from '../shared/version.js';
import { agentCommand } from './commands/agent.js';
import { benchCommand } from './commands/bench.js';
import { parseCommand } from './commands/parse.js';
import { runCommand } from './commands/run.js';

const agent = agentCommand()
  .name('edgewatch-agent')
  .version(EDGEWATCH_VERSION)
  .showHelpAfterError()
  // `run` passes everything after its own options to the command it runs.
  .enablePositionalOptions()
  .addCommand(runCommand())
  .addCommand(benchCommand())
  .addCommand(parseCommand());

agent.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`edgewatch-agent: ${(err as Error).message}\n`);
  process.exit(1);
});
