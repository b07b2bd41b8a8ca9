// What every tool parser returns (nvidia-smi now; tegrastats, vcgencmd and sensors later), so
// the `edgewatch parse` CLI and the collectors can treat any tool's output the same way.

/** One point in time: catalog metric name → value in the catalog's base unit. */
export interface ParsedSample {
  /** The tool's own timestamp in ms since the epoch, or null when the output carries none. */
  readonly t: number | null;
  readonly m: Record<string, number>;
}

export interface ParsedGpu {
  /** The tool's GPU index, or the order of appearance where the format prints none. */
  readonly index: number;
  readonly name: string;
  readonly uuid?: string;
  readonly memTotalBytes?: number;
  readonly driver?: string;
}

export interface ParsedProcess {
  readonly pid: number;
  readonly name: string;
  readonly gpuIndex?: number;
  readonly gpuUuid?: string;
  readonly usedMemoryBytes?: number;
}

export interface ParsedToolOutput<Tool extends string = string> {
  readonly tool: Tool;
  /** Which of the tool's output formats the text was recognised as, e.g. `query-gpu-csv`. */
  readonly format: string;
  readonly samples: ParsedSample[];
  readonly gpus?: ParsedGpu[];
  readonly processes?: ParsedProcess[];
  /** Version strings the output states, keyed by component (e.g. `driver`, `cuda`). */
  readonly version?: Readonly<Record<string, string>>;
  /** Lines or values that were skipped, so a caller can see what was not understood. */
  readonly warnings: string[];
}

/** Text in, parsed values out; throws an Error saying what was expected when the text is not this tool's output. */
export type ToolParser<Tool extends string = string> = (text: string) => ParsedToolOutput<Tool>;
