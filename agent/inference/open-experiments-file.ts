// The agent's open experiments, kept in its state directory so that an agent restarted in the
// middle of `edgewatch run` still knows them: it reloads them, announces them to the hub again,
// and the run's end lands as usual. One small JSON file, rewritten whole (temp file, fsync,
// rename) only when an experiment starts, ends, gets scores or passes its warm-up: never per
// timing, which spares a Pi's SD card.
//
// Each record is what the agent tells the hub about the experiment (an ExperimentEvent without
// its end), so the file is checked with the protocol's own schema when it is read back.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../shared/log.js';
import { ExperimentEventSchema, type ExperimentEvent } from '../../shared/protocol.js';

export const OPEN_EXPERIMENTS_FILE_NAME = 'open-experiments.json';
const FORMAT = 1;

/** An open experiment as persisted: its event so far, without an end. */
export type PersistedExperiment = Omit<ExperimentEvent, 'end'>;

const FileSchema = z.object({
  format: z.literal(FORMAT),
  experiments: z.array(ExperimentEventSchema.omit({ end: true })).max(1024),
});

export class OpenExperimentsFile {
  readonly path: string;
  /** Set while writes fail, so the warning is logged once per outage, not once per write. */
  private failing = false;

  constructor(
    dir: string,
    private readonly log: Logger,
  ) {
    this.path = join(dir, OPEN_EXPERIMENTS_FILE_NAME);
  }

  /**
   * The experiments open when the agent last wrote the file. A missing file is none; a file
   * that cannot be read or parsed is logged and treated as none, so a damaged state directory
   * never stops the agent (the hub closes those experiments after its timeout).
   */
  load(): PersistedExperiment[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      this.log.warn({ err, file: this.path }, `cannot read the open experiments in ${this.path} (${(err as Error).message}): starting without them; the hub closes them after its experiment timeout`);
      return [];
    }
    let parsed: z.infer<typeof FileSchema>;
    try {
      parsed = FileSchema.parse(JSON.parse(text));
    } catch (err) {
      this.log.warn(
        { file: this.path, problem: (err as Error).message.slice(0, 500) },
        `the open experiments file ${this.path} is damaged: starting without them (the hub closes them after its experiment timeout); it is rewritten at the next experiment start or end`,
      );
      return [];
    }
    // Ids are unique at the agent; a duplicate can only come from a hand-edited file.
    const seen = new Set<string>();
    return parsed.experiments.filter((e) => !seen.has(e.id) && seen.add(e.id));
  }

  /**
   * Replaces the file with these experiments. Never throws: a state directory that cannot be
   * written (read-only, full) costs the experiments their survival of a restart, nothing else.
   */
  save(experiments: readonly PersistedExperiment[]): boolean {
    try {
      mkdirSync(join(this.path, '..'), { recursive: true });
      writeFileDurably(this.path, JSON.stringify({ format: FORMAT, experiments }) + '\n');
      if (this.failing) this.log.info({ file: this.path }, 'open experiments are written to the state directory again');
      this.failing = false;
      return true;
    } catch (err) {
      if (!this.failing) {
        this.log.warn(
          { err, file: this.path },
          `cannot write the open experiments to ${this.path} (${(err as Error).message}): they are kept in memory only, so an agent restart loses them (the hub then closes them after its experiment timeout). Make the state directory writable and give it free space.`,
        );
      }
      this.failing = true;
      return false;
    }
  }
}

/** Write to a temp file, fsync, rename: a crash leaves the old file or the new, never half. */
function writeFileDurably(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
