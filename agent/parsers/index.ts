// Tool name → parser, for `edgewatch parse <tool> [file|-]`. Each parser takes the tool's text
// output and returns catalog metrics; later issues add tegrastats, vcgencmd and sensors here.
import { parseNvidiaSmi } from './nvidia-smi/index.js';
import type { ParsedToolOutput } from './types.js';

export type { ParsedToolOutput, ParsedSample, ParsedGpu, ParsedProcess, ToolParser } from './types.js';

export const TOOL_PARSERS: Record<string, (text: string) => ParsedToolOutput> = {
  'nvidia-smi': (text) => parseNvidiaSmi(text),
};
