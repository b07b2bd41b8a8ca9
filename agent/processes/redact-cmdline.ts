// Secrets out of command lines before the process table leaves the device: a password passed
// as `--password hunter2` would otherwise be stored by the hub, shown in the dashboard and
// kept in its database for days. Pure functions on text, no I/O. The value is replaced by
// MASK and the flag (or key, or user name) is kept, so the row stays readable:
//
//   flags        --password, --passwd, --pass, --passphrase, --token, --secret, --api-key,
//                --apikey, --access-key, --secret-key, --client-secret, --auth, --basic-auth,
//                --http-auth, --proxy-auth, --authorization, and any flag whose name ends in
//                password, passwd, passphrase, secret, api-key, access-key, secret-key,
//                bearer or token (--db-password, --hf-token, --wandb-api-key,
//                --aws-secret-access-key, --oauth2-bearer…), or in -pass with two dashes
//                (--db-pass, but not --two-pass or --dry-pass). Case, `-` against `_` and
//                camelCase do not matter (--API_KEY, --apiKey). `--flag value` and
//                `--flag=value`; one dash works too (Go's `-token x`), except `-pass`, which
//                is ffmpeg's pass number. Not secrets, and left alone: tokenizer and length
//                flags (--pad-token, --eos-token, --bos-token, --unk-token, --sep-token,
//                --cls-token, --mask-token, --max-token…, --max-tokens, --pad-token-id),
//                switches (--no-password, --ask-password, --prompt-password, --skip-auth…),
//                file and id flags (--password-file, --token-stdin, --access-key-id). A
//                value starting with `--`, or a secret flag with one dash (`-token`), is
//                the next flag, not a value; after --auth (mongod's switch), nothing
//                starting with `-` is taken for its value.
//   `-p` & co.   only after the program that means a password by it: mysql/mariadb family
//                `-pSECRET` (attached; `-p` alone prompts), sshpass `-p` (its first one),
//                mongo/mongosh/mongodump… `-p`, redis-cli `-a`, openssl `-pass`, `-passin`,
//                `-passout`, `-k`, `docker|podman|nerdctl|helm|oras|skopeo|buildah login
//                -p`, and curl `-u`/`--user`/`-U`/`--proxy-user user:pass` → `user:***`.
//                A program's name counts even where it was masked as a value.
//   assignments  NAME=value where NAME is upper case and ends in _KEY, _TOKEN, _SECRET,
//                _PASS or _PWD, or holds PASSWORD or PASSWD (AWS_SECRET_ACCESS_KEY=,
//                PGPASSWORD=, HF_TOKEN=), and key=value where the key's last part (after
//                `.`, `,`, `:`, `/`, `?`, `&`, `[`) is a secret flag name (db.password=,
//                wandb.api_key=, a URL's ?token=). Also inside other values
//                (--env=AWS_SECRET_ACCESS_KEY=…, helm's --set a=1,auth.password=…).
//   URLs         scheme://user:pass@host → scheme://user:***@host (also with no user).
//   headers      `Authorization: Bearer x`, `Authorization: Basic x`, `Proxy-Authorization:`,
//                any `Name: value` header whose name is a secret name (X-Api-Key:,
//                X-Auth-Token:, Private-Token:), and `Bearer x` on its own.
//
// Command lines of shells (`sh -c "… --token x"`) and processes that rewrite their argv into
// one string (setproctitle) are split on white space and checked word by word; a value in
// quotes is masked to its closing quote. Not covered: positional passwords (htpasswd -b),
// JSON or YAML in an argument, `user%pass` (smbclient), and secrets a program reads from a
// file or from its environment (which are not in /proc/<pid>/cmdline at all).
//
// MASK never appears as a new secret, so redacting twice gives the same text; a value shorter
// than MASK makes the text at most 2 characters longer per value (at most twice as long).

export const MASK = '***';

/** What the process table sends of each command line (`--process-cmdline`). */
export const PROCESS_CMDLINE_MODES = ['none', 'name', 'full'] as const;
export type ProcessCmdlineMode = (typeof PROCESS_CMDLINE_MODES)[number];

/**
 * Redacts a command line already split into its arguments (as /proc/<pid>/cmdline has it).
 * With `limit`, stops after the arguments whose redacted text, space-joined, passes `limit`
 * characters (a later argument never changes an earlier one's redaction): what is shown is
 * shortened anyway, so a long command line costs no more than a short one.
 */
export function redactArgv(argv: readonly string[], limit = Infinity): string[] {
  return mayHoldSecret(argv.join(' ')) ? redactArgvFully(argv, limit) : [...argv];
}

/** Redacts a command line as one string, its arguments joined with spaces. */
export function redactCmdline(text: string): string {
  return mayHoldSecret(text) ? redactCmdlineFully(text) : text;
}

/**
 * Every rule needs one of these in the text, lower-cased and without `-`, `_` and `.` (the
 * separators secret names are compared without): most command lines (kernel threads,
 * daemons, shells) have none and are passed by one native regex instead of word by word.
 */
const HINTS = /pass|pwd|token|secret|key|auth|bearer|@|mysql|mariadb|mongo|redis|openssl|login|curl/;

export function mayHoldSecret(text: string): boolean {
  return HINTS.test(text.toLowerCase().replace(/[-_.]/g, ''));
}

/** redactArgv without the shortcut: every argument through every rule (for tests). */
export function redactArgvFully(argv: readonly string[], limit = Infinity): string[] {
  const st = newState();
  const out: string[] = [];
  let pending: Pending | undefined;
  /** Length of out space-joined: one output per argument, so out[i - 1] is the last one. */
  let length = 0;
  for (let i = 0; i < argv.length; i++) {
    if (i > 0) length += out[i - 1]!.length + (i > 1 ? 1 : 0);
    if (length > limit) break;
    const arg = argv[i]!;
    if (pending) {
      const p = pending;
      pending = undefined;
      if (p === 'header' && isScheme(arg)) {
        out.push(arg);
        pending = 'all';
        continue;
      }
      if (takesValue(p, arg)) {
        noteValue(arg, st);
        out.push(maskValue(arg, p));
        continue;
      }
    }
    if (/\s/.test(arg)) {
      // One argument with spaces: a whole value (`--password=my secret`), or a shell command,
      // a header or a setproctitle line, checked word by word.
      const whole = maskWholeArg(arg, st);
      out.push(whole ?? redactText(arg, st));
      continue;
    }
    const r = maskWord(arg, st, 0);
    out.push(r.out);
    pending = r.next;
  }
  return out;
}

/** redactCmdline without the shortcut (for tests). */
export function redactCmdlineFully(text: string): string {
  return redactText(text, newState());
}

/**
 * The executable's name for `--process-cmdline name`: argv[0]'s basename. Processes that put
 * a title into argv[0] (`postgres: checkpointer`, `nginx: worker process`) give its first
 * word, without the colon. Falls back to `fallback` (comm) when that leaves nothing.
 */
export function commandName(argv0: string, fallback: string): string {
  const first = argv0.trim().split(/\s/, 1)[0] ?? '';
  const base = first.slice(first.lastIndexOf('/') + 1).replace(/:+$/, '');
  return base === '' ? fallback : base;
}

// --- names ----------------------------------------------------------------------------

/** Compact names (lower case, separators dropped) that are secrets as a whole. */
const SECRET_EXACT = new Set(['auth', 'basicauth', 'httpauth', 'proxyauth', 'authorization']);
/** Compact name endings that make a secret (`dbpassword`, `openaiapikey`, `clientsecret`). */
const SECRET_SUFFIXES = ['password', 'passwd', 'passphrase', 'secret', 'apikey', 'accesskey', 'secretkey', 'bearer'];
/** What comes before `token` in names that are not credentials (tokenizer and generation settings). */
const NOT_CREDENTIAL_TOKENS = new Set(['pad', 'eos', 'bos', 'unk', 'sep', 'cls', 'mask', 'start', 'end', 'stop', 'special', 'image', 'video', 'audio', 'eot', 'sot']);
/** First words of switches about a secret, which take no secret (`--no-password`, `--ask-password`). */
const SWITCH_WORDS = new Set(['no', 'ask', 'prompt', 'skip', 'disable', 'enable', 'require']);
/** First words before `-pass` that make a count or a mode, not a password. */
const PASS_NOT_PASSWORD = new Set(['one', 'two', 'single', 'multi', 'first', 'second', 'final', 'dry', 'by']);
/** Flags that are switches in common programs (mongod --auth): a value never starts with `-`. */
const MAYBE_SWITCH = new Set(['auth']);

/** Whether a flag's name (without dashes) or a key names a secret. `pass` only for `--pass`. */
function isSecretName(name: string, allowPass: boolean): boolean {
  const parts = name.toLowerCase().split(/[-_.]+/).filter(Boolean);
  if (parts.length === 0) return false;
  if (parts.length > 1 && SWITCH_WORDS.has(parts[0]!)) return false;
  const compact = parts.join('');
  if (compact === 'pass') return allowPass;
  // --db-pass, --mqtt-pass; not --two-pass, --dry-pass (and never with one dash or in a key).
  if (allowPass && parts.length > 1 && parts[parts.length - 1] === 'pass') return !PASS_NOT_PASSWORD.has(parts[0]!);
  if (SECRET_EXACT.has(compact)) return true;
  for (let i = 0; i < SECRET_SUFFIXES.length; i++) if (compact.endsWith(SECRET_SUFFIXES[i]!)) return true;
  if (compact.endsWith('token')) {
    const before = compact.slice(0, -'token'.length);
    return !NOT_CREDENTIAL_TOKENS.has(before) && !/^(max|min|num)/.test(before);
  }
  return false;
}

/** The key of `key=value`: environment style (upper case) or a dotted/listed key. */
function isSecretKey(key: string): boolean {
  const segments = key.split(/[.,;:/?&[\]]+/).filter(Boolean);
  const last = segments[segments.length - 1];
  if (last === undefined || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(last)) return false;
  if (/^[A-Z][A-Z0-9_]*$/.test(last) && (/_(KEY|TOKEN|SECRET|PASS|PWD)$/.test(last) || /PASSWORD|PASSWD/.test(last))) return true;
  return isSecretName(last, false);
}

const HEADER_NAMES = new Set(['authorization', 'proxy-authorization']);
const AUTH_SCHEMES = new Set(['bearer', 'basic', 'digest', 'negotiate', 'token', 'apikey', 'ntlm']);

function isSecretHeader(name: string): boolean {
  return HEADER_NAMES.has(name.toLowerCase()) || isSecretName(name, false);
}

function isScheme(word: string): boolean {
  return AUTH_SCHEMES.has(stripLead(word).core.toLowerCase());
}

// --- programs -------------------------------------------------------------------------

interface ProgramRule {
  readonly programs: ReadonlySet<string>;
  /** A word that must follow the program before the rule applies (`docker login`). */
  readonly after?: string;
  readonly flags: readonly string[];
  readonly kind: 'all' | 'userColon';
  /** `-pSECRET` only: the flag alone prompts, and the next word is something else. */
  readonly attachedOnly?: boolean;
  /** Only the first use after the program (sshpass's own -p, not the wrapped ssh's). */
  readonly once?: boolean;
}

const MYSQL = ['mysql', 'mysqldump', 'mysqladmin', 'mysqlimport', 'mysqlshow', 'mysqlcheck', 'mysqlpump', 'mysqlslap', 'mariadb', 'mariadb-dump', 'mariadb-admin', 'mariadb-import', 'mariadb-check', 'mariadb-show', 'mariadb-slap'];
const MONGO = ['mongo', 'mongosh', 'mongodump', 'mongorestore', 'mongoexport', 'mongoimport', 'mongostat', 'mongotop', 'mongofiles'];
const REGISTRY_LOGIN = ['docker', 'podman', 'nerdctl', 'helm', 'oras', 'skopeo', 'buildah'];

const PROGRAM_RULES: readonly ProgramRule[] = [
  { programs: new Set(MYSQL), flags: ['-p'], kind: 'all', attachedOnly: true },
  { programs: new Set(['sshpass']), flags: ['-p'], kind: 'all', once: true },
  { programs: new Set(MONGO), flags: ['-p'], kind: 'all' },
  { programs: new Set(['redis-cli']), flags: ['-a'], kind: 'all' },
  { programs: new Set(['openssl']), flags: ['-pass', '-passin', '-passout', '-k'], kind: 'all' },
  { programs: new Set(REGISTRY_LOGIN), after: 'login', flags: ['-p'], kind: 'all' },
  { programs: new Set(['curl']), flags: ['-u', '--user', '-U', '--proxy-user'], kind: 'userColon' },
];
const ALL_PROGRAMS = new Set(PROGRAM_RULES.flatMap((r) => [...r.programs]));

interface State {
  /** Programs seen so far (basenames). */
  readonly seen: Set<string>;
  /** Rules whose program was seen: their flags are checked on every word after. */
  readonly active: ProgramRule[];
  readonly used: Set<ProgramRule>;
}

function newState(): State {
  return { seen: new Set(), active: [], used: new Set() };
}

function activate(rule: ProgramRule, st: State): void {
  if (!st.active.includes(rule)) st.active.push(rule);
}

function noteWord(core: string, st: State): void {
  const base = core.slice(core.lastIndexOf('/') + 1);
  if (ALL_PROGRAMS.has(base)) {
    st.seen.add(base);
    for (let i = 0; i < PROGRAM_RULES.length; i++) {
      const rule = PROGRAM_RULES[i]!;
      if (rule.programs.has(base)) {
        st.used.delete(rule);
        if (rule.after === undefined) activate(rule, st);
      }
    }
    return;
  }
  if (core !== 'login' || st.seen.size === 0) return;
  for (let i = 0; i < PROGRAM_RULES.length; i++) {
    const rule = PROGRAM_RULES[i]!;
    if (rule.after === core && [...rule.programs].some((p) => st.seen.has(p))) activate(rule, st);
  }
}

// --- words ----------------------------------------------------------------------------

/** What the next word is: the value of a secret flag, of a curl --user, or of a header. */
type Pending = 'flag' | 'switch' | 'all' | 'userColon' | 'header';

interface WordResult {
  readonly out: string;
  readonly next?: Pending;
  /** The masked value opened a quote that a later word closes (string form only). */
  readonly openQuote?: string;
  /** A value was masked up to the word's end: in an argument with spaces, the rest is value too. */
  readonly whole?: boolean;
}

const MAX_DEPTH = 16;
const FLAG = /^(--?)([A-Za-z][\w.-]*)(?:=([\s\S]*))?$/;
const HEADER = /^([A-Za-z][\w-]*):([\s\S]*)$/;
const HEADER_START = /^(\s*([A-Za-z][\w-]*):\s*)([\s\S]*)$/;

/**
 * Whether `word` is the value the previous word asked for. Not when it starts with `--` (the
 * next flag), with `-` after a switch-like flag, or is a secret flag itself (`-token x`):
 * better a flag without a value than a secret shown.
 */
function takesValue(p: Pending, word: string): boolean {
  const { core } = stripLead(word);
  if (core.startsWith('--') || (p === 'switch' && core.startsWith('-'))) return false;
  if (!core.startsWith('-')) return true;
  const flag = FLAG.exec(core);
  return !(flag && isSecretName(flag[2]!, false));
}

/** A masked value may still name a program (`--password mysql -pX`): err towards masking. */
function noteValue(value: string, st: State): void {
  const { core } = stripLead(value);
  if (!/\s/.test(core)) noteWord(core, st);
}

/**
 * The value masked: whole, or for curl's --user after the user name's colon (and what the
 * other rules find in it: `-u` alone prompts, so its value may be anything).
 */
function maskValue(value: string, kind: Pending): string {
  if (value === '') return value;
  if (kind !== 'userColon') return MASK;
  const v = maskWord(value, newState(), 1).out;
  const colon = v.indexOf(':');
  return colon < 0 || colon === v.length - 1 ? v : `${v.slice(0, colon + 1)}${MASK}`;
}

function masked(prefix: string, value: string, kind: Pending): WordResult {
  const m = maskValue(value, kind);
  if (m === value) return { out: `${prefix}${value}` };
  const q = value[0];
  const openQuote = (q === '"' || q === "'") && value.indexOf(q, 1) < 0 ? q : undefined;
  return { out: `${prefix}${m}`, whole: true, ...(openQuote ? { openQuote } : {}) };
}

/** A word whose value went through maskWord again: only a header's pending value carries over. */
function wrapped(prefix: string, inner: WordResult): WordResult {
  return { ...inner, out: `${prefix}${inner.out}`, next: inner.next === 'header' ? 'header' : undefined };
}

/** Opening quotes and `$(` or `(` in front of a word inside a shell string. */
function stripLead(word: string): { lead: string; core: string } {
  let i = 0;
  for (;;) {
    const c = word[i];
    if (c === '"' || c === "'" || c === '`' || c === '(') i++;
    else if (c === '$' && word[i + 1] === '(') i += 2;
    else break;
  }
  return { lead: word.slice(0, i), core: word.slice(i) };
}

/**
 * One word (an argument without white space, or a word of a shell string): masks what it
 * carries itself and says whether the word after it is a secret.
 */
function maskWord(word: string, st: State, depth: number): WordResult {
  const { lead, core: raw } = stripLead(word);
  if (raw === '') return { out: word };
  // URLs first: a password may hold `=` or `:`, which the rules below would split on.
  const core = maskUrls(raw);
  const same = `${lead}${core}`;

  // Program-specific flags first: `-psecret` would otherwise be just an unknown flag.
  if (core.startsWith('-')) {
    for (let i = 0; i < st.active.length; i++) {
      const rule = st.active[i]!;
      if (rule.once && st.used.has(rule)) continue;
      for (let k = 0; k < rule.flags.length; k++) {
        const flag = rule.flags[k]!;
        if (core === flag) {
          if (rule.attachedOnly) continue;
          if (rule.once) st.used.add(rule);
          return { out: same, next: rule.kind === 'userColon' ? 'userColon' : 'flag' };
        }
        if (core.startsWith(`${flag}=`) && flag.startsWith('--')) {
          if (rule.once) st.used.add(rule);
          return masked(`${lead}${flag}=`, core.slice(flag.length + 1), rule.kind);
        }
        if (flag.length === 2 && core.length > 2 && core.startsWith(flag)) {
          if (rule.once) st.used.add(rule);
          return masked(`${lead}${flag}`, core.slice(2), rule.kind);
        }
      }
    }
  }

  const flag = FLAG.exec(core);
  if (flag) {
    const dashes = flag[1]!;
    const name = flag[2]!;
    const value = flag[3];
    if (isSecretName(name, dashes === '--')) {
      if (value === undefined) return { out: same, next: MAYBE_SWITCH.has(name.toLowerCase()) ? 'switch' : 'flag' };
      return masked(`${lead}${dashes}${name}=`, value, 'all');
    }
    if (value === undefined || depth >= MAX_DEPTH) return { out: same };
    // A value may carry an assignment, a URL or a header (--env=X_TOKEN=…, --header=Authorization:).
    return wrapped(`${lead}${dashes}${name}=`, maskWord(value, st, depth + 1));
  }

  if (!core.startsWith('-') && !core.includes('=')) noteWord(core, st);

  const header = HEADER.exec(core);
  if (header && !header[2]!.startsWith('//') && isSecretHeader(header[1]!)) {
    const name = header[1]!;
    const value = header[2]!;
    if (value === '') return { out: same, next: 'header' };
    if (isScheme(value)) return { out: same, next: 'all' };
    return masked(`${lead}${name}:`, value, 'all');
  }

  if (core.toLowerCase() === 'bearer') return { out: same, next: 'all' };

  const eq = core.indexOf('=');
  if (eq > 0) {
    const key = core.slice(0, eq);
    const value = core.slice(eq + 1);
    if (isSecretKey(key)) return masked(`${lead}${key}=`, value, 'all');
    if (depth >= MAX_DEPTH) return { out: same };
    return wrapped(`${lead}${key}=`, maskWord(value, st, depth + 1));
  }

  return { out: same };
}

/**
 * An argument with white space that is one secret value as a whole (`--password=two words`,
 * `DB_PASSWORD=two words`, mysql's `-ptwo words`), masked; undefined when it is not.
 */
function maskWholeArg(arg: string, st: State): string | undefined {
  // A header as one argument (curl -H 'X-Api-Key: two words'): all after the name (and the
  // scheme, for Authorization: Bearer …) is its value.
  const header = HEADER_START.exec(arg);
  if (header && isSecretHeader(header[2]!) && !header[3]!.startsWith('//')) {
    const scheme = /^(\S+)(\s+)/.exec(header[3]!);
    const keep = scheme && AUTH_SCHEMES.has(scheme[1]!.toLowerCase()) ? scheme[0] : '';
    const value = header[3]!.slice(keep.length);
    return value === '' ? undefined : `${header[1]}${keep}${MASK}`;
  }
  const word = /^\S+/.exec(arg)?.[0] ?? '';
  const { core } = stripLead(word);
  if (!core.includes('=') && !core.startsWith('-') && !core.includes(':')) return undefined;
  // A trial on the first word: a once-only rule it uses counts only if the whole is masked.
  const used = new Set(st.used);
  const r = maskWord(word, { seen: st.seen, active: st.active, used }, 0);
  if (!r.whole) return undefined;
  for (const u of used) st.used.add(u);
  return r.out;
}

// --- text -----------------------------------------------------------------------------

/** A string of words: each word checked, values in quotes masked to their closing quote. */
function redactText(text: string, st: State): string {
  const words: { start: number; end: number }[] = [];
  const lastQuote: Record<string, number> = { '"': text.lastIndexOf('"'), "'": text.lastIndexOf("'") };
  const re = /\S+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) words.push({ start: m.index, end: m.index + m[0].length });
  let out = '';
  let pos = 0;
  let pending: Pending | undefined;

  /** The index of the word holding the closing `q`, searching from `from` (a text offset). */
  const closing = (q: string, from: number, i: number): number => {
    const at = (lastQuote[q] ?? -1) < from ? -1 : text.indexOf(q, from);
    if (at < 0) return i;
    let j = i;
    while (j + 1 < words.length && words[j]!.end <= at) j++;
    return j;
  };

  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const wordText = text.slice(w.start, w.end);
    out += text.slice(pos, w.start);
    pos = w.end;
    if (pending) {
      const p = pending;
      pending = undefined;
      if (p === 'header' && isScheme(wordText)) {
        out += wordText;
        pending = 'all';
        continue;
      }
      if (takesValue(p, wordText)) {
        const q = wordText[0];
        const j = (q === '"' || q === "'") && wordText.indexOf(q, 1) < 0 ? closing(q, w.end, i) : i;
        noteValue(wordText, st);
        out += maskValue(text.slice(w.start, words[j]!.end), p);
        pos = words[j]!.end;
        i = j;
        continue;
      }
    }
    const r = maskWord(wordText, st, 0);
    out += r.out;
    pending = r.next;
    if (r.openQuote) {
      const j = closing(r.openQuote, w.end, i);
      pos = words[j]!.end;
      i = j;
    }
  }
  return out + text.slice(pos);
}

/** scheme://user:pass@host → scheme://user:***@host, for every URL in `text`. */
export function maskUrls(text: string): string {
  let out = '';
  let last = 0;
  let from = 0;
  for (;;) {
    const sep = text.indexOf('://', from);
    if (sep < 0) break;
    from = sep + 3;
    let s = sep;
    while (s > last && /[A-Za-z0-9+.-]/.test(text[s - 1]!)) s--;
    if (s === sep || sep < last) continue;
    const start = sep + 3;
    let end = start;
    while (end < text.length && !'/?#'.includes(text[end]!) && !/\s/.test(text[end]!)) end++;
    const authority = text.slice(start, end);
    const at = authority.lastIndexOf('@');
    const colon = authority.indexOf(':');
    if (at < 0 || colon < 0 || colon > at || colon + 1 === at) continue;
    out += text.slice(last, start + colon + 1) + MASK;
    last = start + at;
    from = Math.max(from, last);
  }
  return out + text.slice(last);
}
