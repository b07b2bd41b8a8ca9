// The git commit of the model code a benchmark runs, as experiment tags.
import { execFile } from 'node:child_process';

const GIT_TIMEOUT_MS = 2000;


/** `git.commit` (short sha) and `git.dirty=1` when run inside a git work tree; {} without git. */
export async function gitTags(cwd = process.cwd()): Promise<Record<string, string>> {
  const git = (args: string[]): Promise<string | null> =>
    new Promise((resolve) => {
      execFile('git', args, { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => resolve(err ? null : stdout));
    });
  const sha = (await git(['rev-parse', '--short', 'HEAD']))?.trim();
  if (!sha || !/^[0-9a-f]{4,64}$/.test(sha)) return {};
  const status = await git(['status', '--porcelain']);
  return { 'git.commit': sha, ...(status !== null && status.trim() !== '' ? { 'git.dirty': '1' } : {}) };
}
