// Tool name → parser, for `edgewatch parse <tool> [file|-]`. Each parser takes the tool's text
// output and returns catalog metrics.
import { parseNvidiaSmi } from './nvidia-smi/index.js';
import { parseSensors } from './sensors/index.js';
import { parseTegrastats } from './tegrastats/index.js';
import type { ParsedToolOutput } from './types.js';
import { parseVcgencmd } from './vcgencmd/index.js';

export type { ParsedToolOutput, ParsedSample, ParsedGpu, ParsedProcess, ToolParser } from './types.js';

/** What a caller can tell a parser that the output itself does not say. */
export interface ParseHints {
  /** vcgencmd: the block a bare `frequency(N)=…` answer measured (`measure_clock arm` → arm). */
  readonly clockBlock?: string;
  /** vcgencmd: the rail a bare `volt=…` answer measured (`measure_volts core` → core). */
  readonly voltRail?: string;
}

export const TOOL_PARSERS: Record<string, (text: string, hints: ParseHints) => ParsedToolOutput> = {
  'nvidia-smi': (text) => parseNvidiaSmi(text),
  sensors: (text) => parseSensors(text),
  tegrastats: (text) => parseTegrastats(text),
  vcgencmd: (text, hints) => parseVcgencmd(text, hints),
};
