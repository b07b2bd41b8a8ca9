// Prometheus remote write on the command line of `hub` and `start`: `--remote-write URL`
// (repeatable) for a plain destination, and `--config hub.json` for everything else:
//
//   { "remoteWrite": [ { "url": "https://mimir/api/v1/push", "bearerToken": "…", "include": ["gpu.*.*"] } ],
//     "remoteWriteQueue": { "maxBytes": "2GB", "maxAge": "3d" } }
//
// The file is checked strictly (unknown keys are refused, with their path); no error or log
// line repeats a value from it, so passwords and tokens stay out of terminals and journals.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { RemoteWriteConfigSchema, resolveDestinations, type RemoteWriteConfig } from '../dashboard/server/remote-write/config.js';
import { readJsonConfig } from './json-config.js';
import { parsePositiveDuration, parseSize } from './options.js';

export interface RemoteWriteCliOptions {
  remoteWrite?: string[];
  config?: string;
}

/** What `hub` and `start` pass on to startHub (nothing without remote write). */
export interface RemoteWriteHubOptions {
  remoteWrite?: RemoteWriteConfig[];
  remoteWriteQueue?: { maxBytes?: number; maxAgeMs?: number };
}

/** A number (taken as is) or a string for `parse` ("2GB", "3d"), whose message says what is wrong. */
const parsed = (parse: (raw: string) => number) =>
  z.union([z.number().positive(), z.string()]).transform((v, ctx) => {
    if (typeof v === 'number') return v;
    try {
      return parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

export const HubConfigSchema = z.strictObject({
  remoteWrite: z.array(RemoteWriteConfigSchema).optional(),
  remoteWriteQueue: z
    .strictObject({
      /** Bytes, or a size such as "2GB". */
      maxBytes: parsed(parseSize).optional(),
      /** Milliseconds, or a duration such as "3d". */
      maxAge: parsed(parsePositiveDuration).optional(),
    })
    .optional(),
});
export type HubConfig = z.output<typeof HubConfigSchema>;

/** Adds --remote-write and --config to a command. */
export function withRemoteWriteOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--remote-write <url>', 'send every sample to this Prometheus remote-write endpoint (repeatable; e.g. http://prometheus:9090/api/v1/write)')
        .env('EDGEWATCH_REMOTE_WRITE')
        .argParser(collectUrls),
    )
    .addOption(new Option('--config <file>', 'hub settings file (JSON): remote-write destinations with auth, filters and limits').env('EDGEWATCH_HUB_CONFIG'));
}

/** Each --remote-write adds to the list; the variable may hold several, comma-separated. */
function collectUrls(value: string, previous: string[] | undefined): string[] {
  const urls = value
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new InvalidArgumentError('is empty: give a URL such as http://prometheus:9090/api/v1/write');
  return [...(previous ?? []), ...urls];
}

/** Reads and checks a hub config file; errors name the file and the key, never a value. */
export function loadHubConfig(file: string): HubConfig {
  if (!existsSync(file)) throw new Error(`config file ${file} does not exist (create it, or leave out --config)`);
  return readJsonConfig(file, HubConfigSchema);
}

/**
 * The remote-write part of startHub's options from --remote-write and --config; a bad file or
 * destination ends the command with a message saying what to fix.
 */
export function remoteWriteFrom(opts: RemoteWriteCliOptions, command: Command): RemoteWriteHubOptions {
  try {
    const file = opts.config === undefined ? undefined : loadHubConfig(opts.config);
    const destinations: RemoteWriteConfig[] = [...(file?.remoteWrite ?? []), ...(opts.remoteWrite ?? []).map((url) => ({ url }))];
    // Checked now (names unique, CA files readable), so the error comes before the hub opens anything.
    resolveDestinations(destinations);
    const queue = file?.remoteWriteQueue;
    return {
      ...(destinations.length > 0 ? { remoteWrite: destinations } : {}),
      ...(queue ? { remoteWriteQueue: { ...(queue.maxBytes !== undefined ? { maxBytes: queue.maxBytes } : {}), ...(queue.maxAge !== undefined ? { maxAgeMs: queue.maxAge } : {}) } } : {}),
    };
  } catch (err) {
    return command.error(`error: ${(err as Error).message}`);
  }
}
