import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { TOOL_PARSERS } from '../../agent/parsers/index.js';

export function parseCommand(): Command {
  const tools = Object.keys(TOOL_PARSERS).join('|');
  return new Command('parse')
    .description(`print what edgewatch makes of a tool's output, as JSON (tools: ${tools})`)
    .argument('<tool>', `the tool whose output this is: ${tools}`)
    .argument('[file]', 'file holding the output; - or nothing reads standard input', '-')
    .option('--clock <block>', 'vcgencmd: the block a bare frequency(N)=… line measured (measure_clock arm → arm)')
    .option('--volts <rail>', 'vcgencmd: the rail a bare volt=… line measured (measure_volts core → core)')
    .action((tool: string, file: string, opts: { clock?: string; volts?: string }) => {
      const parser = TOOL_PARSERS[tool];
      if (!parser) {
        process.stderr.write(`edgewatch parse: unknown tool ${JSON.stringify(tool)}; known: ${tools}\n`);
        process.exitCode = 2;
        return;
      }
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (err) {
        process.stderr.write(`edgewatch parse: cannot read ${file === '-' ? 'standard input' : file}: ${(err as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      try {
        process.stdout.write(JSON.stringify(parser(text, { clockBlock: opts.clock, voltRail: opts.volts }), null, 2) + '\n');
      } catch (err) {
        process.stderr.write(`edgewatch parse ${tool}: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
