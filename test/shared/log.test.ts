// The human log format: real pino loggers writing through it into a string, so what is
// checked is exactly what an operator's terminal would receive.
import { describe, expect, it } from 'vitest';
import { colorWanted, createLogger, escapeControl, formatLogLine, resolveLogFormat } from '../../shared/log.js';

/** A logger in the given format whose lines are kept. */
function capture(format: string, level = 'info', color = false): { log: ReturnType<typeof createLogger>; lines: () => string[]; text: () => string } {
  let out = '';
  const log = createLogger('hub', level, { format, color, stream: { write: (s: string) => (out += s) } });
  return { log, lines: () => out.split('\n').filter(Boolean), text: () => out };
}

const HUMAN = /^\d\d:\d\d:\d\d (INFO |WARN |ERROR|FATAL|DEBUG|TRACE) /;

describe('human log lines', () => {
  it('prints time, level, component, message and the fields as k=v', () => {
    const c = capture('pretty');
    c.log.child({ part: 'agent' }).info({ url: 'http://127.0.0.1:8080', port: 8080, tls: false, collectors: ['cpu', 'load'] }, 'hub listening');
    const [line] = c.lines();
    expect(line).toMatch(HUMAN);
    expect(line).toMatch(/^\d\d:\d\d:\d\d INFO  hub\/agent hub listening url=http:\/\/127\.0\.0\.1:8080 port=8080 tls=false collectors=cpu,load$/);
    expect(c.text()).not.toContain('{"level"');
  });

  it('names every level', () => {
    const c = capture('pretty', 'trace');
    c.log.trace('t');
    c.log.debug('d');
    c.log.info('i');
    c.log.warn('w');
    c.log.error('e');
    c.log.fatal('f');
    expect(c.lines().map((l) => l.slice(9, 14))).toEqual(['TRACE', 'DEBUG', 'INFO ', 'WARN ', 'ERROR', 'FATAL']);
  });

  it('quotes values with spaces, cuts long ones and shows nested objects as compact JSON', () => {
    const c = capture('pretty');
    c.log.info({ name: 'lab pi "4"', long: 'x'.repeat(500), nested: { a: 1 }, many: Array.from({ length: 12 }, (_, i) => i) }, 'm');
    const line = c.lines()[0]!;
    expect(line).toContain('name="lab pi \\"4\\""');
    expect(line).toMatch(/long=x{99}… /);
    expect(line).toContain('nested="{\\"a\\":1}"');
    expect(line).toContain('many=0,1,2,3,4,5,6,7,+4');
    expect(line.length).toBeLessThan(300);
  });

  it("shows an error's message, not its stack, at info", () => {
    const c = capture('pretty', 'info');
    const err = new Error('bind EADDRINUSE 127.0.0.1:7262');
    c.log.warn({ err, port: 7262 }, 'inference receiver is off');
    expect(c.lines()).toHaveLength(1);
    expect(c.lines()[0]).toMatch(/WARN  hub inference receiver is off err="bind EADDRINUSE 127\.0\.0\.1:7262" port=7262$/);
    expect(c.text()).not.toMatch(/\bat .*\(.*:\d+:\d+\)/);
  });

  it('leaves out the part of an error the message already says, keeps its cause', () => {
    const c = capture('pretty');
    const err = new Error('inference port 7262 on 127.0.0.1 is in use', { cause: new Error('bind EADDRINUSE 127.0.0.1:7262') });
    c.log.warn({ err }, 'inference receiver is off: inference port 7262 on 127.0.0.1 is in use. Pick another');
    expect(c.lines()[0]).toMatch(/Pick another err="bind EADDRINUSE 127\.0\.0\.1:7262"$/);
    const same = capture('pretty');
    same.log.error({ err: new Error('disk full') }, 'cannot spool: disk full');
    expect(same.lines()[0]).toMatch(/cannot spool: disk full$/);
  });

  it('adds the code of an error whose message does not say it', () => {
    const c = capture('pretty');
    c.log.error({ err: Object.assign(new Error('no such file'), { code: 'ENOENT' }) }, 'reading state');
    expect(c.lines()[0]).toContain('err="no such file (ENOENT)"');
  });

  it('shows the stack under the line at debug', () => {
    const c = capture('pretty', 'debug');
    c.log.error({ err: new Error('boom') }, 'failed');
    const lines = c.lines();
    expect(lines[0]).toMatch(/ERROR hub failed err=boom$/);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(1).every((l) => l.startsWith('    '))).toBe(true);
    expect(lines.some((l) => /^ {4}\s*at /.test(l))).toBe(true);
  });

  it('escapes control characters from untrusted fields and messages', () => {
    const c = capture('pretty', 'info', true);
    const evil = 'pi\x1b]0;owned\x07\x1b[2J\u009b31m\r\nFAKE 00:00:00 ERROR\u202egnp.exe';
    c.log.info({ deviceName: evil, [`k\x1bey`]: 1 }, `agent connected ${evil}`);
    const out = c.text();
    expect(out.split('\n').filter(Boolean)).toHaveLength(1);
    expect(out).not.toMatch(/[\x07\r\u009b\u202e]/);
    // The only ESC left is our own colouring: ESC [ digits m.
    expect(out.replace(/\x1b\[[0-9;]*m/g, '')).not.toContain('\x1b');
    expect(out).toContain('pi\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\r\\nFAKE 00:00:00 ERROR\\u{202e}gnp.exe');
    expect(out).toContain('k\\x1bey');
  });

  it('colours the level on a colour terminal and not with color off', () => {
    const coloured = capture('pretty', 'info', true);
    coloured.log.warn('w');
    expect(coloured.text()).toContain('\x1b[33mWARN \x1b[0m');
    const plain = capture('pretty', 'info', false);
    plain.log.warn('w');
    expect(plain.text()).not.toContain('\x1b');
  });

  it('honours NO_COLOR and never colours what is not a terminal', () => {
    expect(colorWanted(2, { NO_COLOR: '1' })).toBe(false);
    // Under vitest fd 2 is a pipe, not a TTY.
    expect(colorWanted(2, {})).toBe(false);
  });

  it('passes a line that is not JSON on, escaped', () => {
    expect(formatLogLine('not json \x1b[31m\n', { color: false, stacks: false })).toBe('not json \\x1b[31m\n');
  });
});

describe('JSON log lines', () => {
  it('stay one JSON object per line with format json', () => {
    const c = capture('json');
    c.log.info({ port: 8080 }, 'hub listening');
    const rec = JSON.parse(c.lines()[0]!) as { level: number; msg: string; component: string; port: number };
    expect(rec).toMatchObject({ level: 30, msg: 'hub listening', component: 'hub', port: 8080 });
  });

  it('auto means human lines on a terminal and JSON otherwise; json and pretty force', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat(undefined, false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
    expect(resolveLogFormat('PRETTY', false)).toBe('pretty');
  });
});

describe('escapeControl', () => {
  it('keeps ordinary text, UTF-8 included, and escapes C0, DEL, C1 and bidi controls', () => {
    expect(escapeControl('Jetson Orin – 60 °C, 東京')).toBe('Jetson Orin – 60 °C, 東京');
    expect(escapeControl('a\x00b\x7fc\x85d\u2066e\tf')).toBe('a\\x00b\\x7fc\\x85d\\u{2066}e\\tf');
  });
});
