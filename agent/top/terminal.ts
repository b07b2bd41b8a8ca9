// The terminal side of `edgewatch top`: alternate screen, hidden cursor, raw keys, redraws,
// and putting all of it back on every way out (q, Ctrl-C, SIGTERM, SIGHUP, an exception).
// Frames are drawn in place (cursor home, each line then "erase to end of line"), which does
// not flicker the way clearing the whole screen does.
import type { ReadStream, WriteStream } from 'node:tty';

const ENTER = '\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J';
const LEAVE = '\x1b[0m\x1b[?25h\x1b[?1049l';

export interface Screen {
  readonly width: number;
  readonly height: number;
  draw(lines: readonly string[]): void;
  /** Restores the terminal; safe to call more than once. */
  restore(): void;
}

export function openScreen(stdin: ReadStream, stdout: WriteStream, onKeys: (data: string) => void, onResize: () => void): Screen {
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    stdin.off('data', onData);
    stdout.off('resize', onResize);
    process.off('exit', restore);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    stdout.write(LEAVE);
  };
  const onData = (chunk: Buffer | string): void => onKeys(chunk.toString());
  stdout.write(ENTER);
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.on('data', onData);
  stdin.resume();
  // SIGWINCH reaches Node as the stream's 'resize' event.
  stdout.on('resize', onResize);
  // Whatever else ends the process, the terminal is not left in raw mode on the alternate screen.
  process.on('exit', restore);
  return {
    get width() {
      return stdout.columns || 80;
    },
    get height() {
      return stdout.rows || 24;
    },
    draw(lines) {
      if (restored) return;
      stdout.write('\x1b[H' + lines.map((l) => `${l}\x1b[0m\x1b[K`).join('\r\n') + '\x1b[J');
    },
    restore,
  };
}
