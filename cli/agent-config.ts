// The agent's config file: the same settings as its flags and EDGEWATCH_* variables, kept in
// one JSON file so a board's setup survives in /etc rather than in a unit file's command line.
// Precedence, highest first: command-line flag, environment variable, config file, default.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { PROCESS_CMDLINE_MODES } from '../agent/processes/redact-cmdline.js';
import { LOG_LEVELS } from '../shared/log.js';
import { readJsonConfig } from './json-config.js';
import { parseDuration, parsePositiveDuration, parseSize } from './options.js';

/** Where the agent looks when neither --config nor EDGEWATCH_CONFIG names a file. */
export const DEFAULT_AGENT_CONFIG = '/etc/edgewatch/agent.json';

const path = z.string().min(1);

/**
 * A config value given as a number (taken as is, at least `min`) or as a string for `parse`
 * (`"2s"`, `"100MB"`), which says what is wrong with a bad one.
 */
const parsed = (parse: (raw: string) => number, min = 0) =>
  z.union([z.number().min(min), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    try {
      return parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const duration = parsed(parseDuration);

/** Keys are the flags' names in camelCase (`--state-dir` → `stateDir`). */
export const AgentConfigSchema = z
  .object({
    hub: z.string().min(1),
    /** PEM file of a private CA for a wss:// hub (--ca). */
    ca: path,
    /** Device token (ewd_…) for a hub that requires one (--token). */
    token: z.string().min(1).max(200),
    name: z.string().min(1).max(128),
    id: z.string().min(1).max(64),
    interval: duration,
    stateDir: path,
    buffer: z.number().int().positive(),
    /** Bytes, or a size such as "100MB". */
    spoolMax: parsed(parseSize, 1),
    /** Milliseconds, or a duration such as "7d". */
    spoolMaxAge: parsed(parsePositiveDuration, 1),
    procRoot: path,
    sysRoot: path,
    hostRoot: path,
    logLevel: z.enum(LOG_LEVELS),
    processInterval: duration,
    topProcesses: z.number().int().positive().max(50),
    /** What the process table sends of each command line: "full" (secrets masked), "name" or "none". */
    processCmdline: z.enum(PROCESS_CMDLINE_MODES),
    /** 0 turns the inference receiver off, as on the command line. */
    inferencePort: z.number().int().min(0).max(65535),
    inferenceHost: z.string().min(1),
    disable: z.union([z.array(z.string()), z.string()]).transform((v) => (typeof v === 'string' ? splitList(v) : v)),
  })
  .partial()
  .strict();
export type AgentConfig = z.infer<typeof AgentConfigSchema>;

export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Reads and checks a config file. An explicitly named file must exist; the default one may be
 * absent. Errors name the file and the offending key.
 */
export function loadAgentConfig(file: string, explicit: boolean): AgentConfig {
  if (!existsSync(file)) {
    if (explicit) throw new Error(`config file ${file} does not exist (create it, or leave out --config)`);
    return {};
  }
  return readJsonConfig(file, AgentConfigSchema);
}

/**
 * Fills in every option that still holds its default (not given as a flag or in the
 * environment) from the config file, marking its source as 'config'.
 */
export function applyAgentConfig(command: Command, config: AgentConfig): void {
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    const source = command.getOptionValueSource(key);
    if (source === undefined || source === 'default') command.setOptionValueWithSource(key, value, 'config');
  }
}

/** The effective settings and where each came from, for `--print-config`. */
export function describeEffectiveConfig(command: Command, keys: readonly string[]): { config: Record<string, unknown>; sources: Record<string, string> } {
  const config: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const key of keys) {
    const value = command.getOptionValue(key);
    if (value === undefined) continue;
    config[key] = value;
    sources[key] = command.getOptionValueSource(key) ?? 'default';
  }
  return { config, sources };
}
