// Finds a tool on a PATH string the way a shell would, without starting one: the agent is given
// the PATH to search (ctx.path) and must not depend on a shell being present or on its quirks.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter as hostDelimiter, isAbsolute, join } from 'node:path';

export interface FindExecutableOptions {
  /** `process.platform` by default; on win32 the PATHEXT extensions are tried too. */
  readonly platform?: NodeJS.Platform;
  /** `;`-separated extensions for win32 (PATHEXT); `.EXE;.CMD;.BAT;.COM` when unset. */
  readonly pathExt?: string;
}

async function isExecutableFile(file: string, platform: NodeJS.Platform): Promise<boolean> {
  try {
    if (!(await stat(file)).isFile()) return false;
    // Windows has no execute bit; existing with the right extension is what counts there.
    if (platform !== 'win32') await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of the first executable file called `name` in the directories of
 * `pathString`, or null. Empty and relative PATH entries are skipped: they mean "the current
 * directory", and an agent must not run whatever happens to lie in its working directory.
 */
export async function findExecutable(name: string, pathString: string, options: FindExecutableOptions = {}): Promise<string | null> {
  const platform = options.platform ?? process.platform;
  if (name === '' || name.includes('\0')) return null;
  const delimiter = platform === 'win32' ? ';' : platform === process.platform ? hostDelimiter : ':';
  // PATHEXT is upper case while files are usually lower case; Windows does not care, a test
  // machine emulating it does, so both spellings are tried.
  const extensions =
    platform === 'win32'
      ? [
          ...new Set(
            ['', ...(options.pathExt ?? process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';')]
              .filter((e, i) => i === 0 || e !== '')
              .flatMap((e) => [e.toLowerCase(), e]),
          ),
        ]
      : [''];
  // A name with a directory in it is a path, as in a shell: PATH is not searched.
  const dirs = name.includes('/') || (platform === 'win32' && name.includes('\\')) ? [null] : pathString.split(delimiter);
  for (const dir of dirs) {
    if (dir !== null && (dir === '' || !isAbsolute(dir))) continue;
    for (const ext of extensions) {
      const file = dir === null ? `${name}${ext}` : join(dir, `${name}${ext}`);
      if (dir === null && !isAbsolute(file)) continue;
      if (await isExecutableFile(file, platform)) return file;
    }
  }
  return null;
}
