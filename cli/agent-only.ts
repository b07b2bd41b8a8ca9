// `edgewatch-agent`: the agent and the parsers in one self-contained file
// (dist/edgewatch-agent.mjs, every dependency bundled in) for boards with Node and nothing
// else: no npm install, no compiler, no SQLite. Same options as `edgewatch agent`, plus
// `run` (an experiment around a command), `bench` (variants compared over repeated trials),
// `top` (a terminal view of this device) and `parse`.
import './lean-v8.js';
import { EDGEWATCH_VERSION } from '../shared/version.js';
import { fatalText } from './options.js';
import { agentCommand } from './commands/agent.js';
import { benchCommand } from './commands/bench.js';
import { parseCommand } from './commands/parse.js';
import { runCommand } from './commands/run.js';
import { topCommand } from './commands/top.js';

const agent = agentCommand()
  .name('edgewatch-agent')
  .version(EDGEWATCH_VERSION)
  .showHelpAfterError()
  // `run` passes everything after its own options to the command it runs.
  .enablePositionalOptions()
  .addCommand(runCommand())
  .addCommand(benchCommand())
  .addCommand(parseCommand())
  .addCommand(topCommand());

agent.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(fatalText('edgewatch-agent', err));
  process.exit(1);
});
