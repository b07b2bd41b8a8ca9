// Keys of `edgewatch top`, from the raw bytes a terminal in raw mode sends. One read may hold
// several keys (typed fast, or pasted); escape sequences such as arrows are skipped whole so
// their letters are not taken for commands.
export type KeyAction = 'quit' | 'sort-cpu' | 'sort-mem' | 'help' | 'close';

export function parseKeys(data: string): KeyAction[] {
  const actions: KeyAction[] = [];
  for (let i = 0; i < data.length; i++) {
    const ch = data[i]!;
    if (ch === '\x1b') {
      // A lone Esc closes the help; ESC [ … or ESC O x is a cursor or function key.
      const seq = /^\x1b(\[[0-9;?]*[ -/]*[@-~]|O.)/.exec(data.slice(i));
      if (seq) i += seq[0].length - 1;
      else actions.push('close');
      continue;
    }
    switch (ch) {
      case 'q':
      case 'Q':
      case '\x03': // Ctrl-C: raw mode delivers it as a byte, not as SIGINT
      case '\x04': // Ctrl-D
        actions.push('quit');
        break;
      case 's':
      case 'S':
      case 'c':
        actions.push('sort-cpu');
        break;
      case 'm':
      case 'M':
        actions.push('sort-mem');
        break;
      case 'h':
      case 'H':
      case '?':
        actions.push('help');
        break;
      default:
        break;
    }
  }
  return actions;
}
