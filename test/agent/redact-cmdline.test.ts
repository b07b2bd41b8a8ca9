// Secrets out of process command lines (agent/processes/redact-cmdline.ts): examples of each
// rule and of what must stay untouched, then properties over generated command lines: never
// throws, idempotent, bounded growth, no known secret left, ordinary lines unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCmdline, MAX_CMD_CHARS } from '../../agent/processes/proc-pid.js';
import { commandName, MASK, maskUrls, mayHoldSecret, redactArgv, redactArgvFully, redactCmdline, redactCmdlineFully } from '../../agent/processes/redact-cmdline.js';

const nul = (...args: string[]): string => `${args.join('\0')}\0`;

describe('redactCmdline: what is masked', () => {
  it.each([
    // Secret flags, both forms, any case, one or two dashes.
    ['app --password hunter2 --token=abc123', 'app --password *** --token=***'],
    ['app --PASSWORD hunter2 --Api-Key=k --apiKey k2 --api_key k3', 'app --PASSWORD *** --Api-Key=*** --apiKey *** --api_key ***'],
    ['app --passwd a --pass b --passphrase c --secret d --client-secret e', 'app --passwd *** --pass *** --passphrase *** --secret *** --client-secret ***'],
    ['app --access-key a --secret-key b --aws-secret-access-key c --auth d --basic-auth u:p', 'app --access-key *** --secret-key *** --aws-secret-access-key *** --auth *** --basic-auth ***'],
    ['app --db-password a --hf-token b --wandb-api-key c --use-auth-token d --oauth2-bearer e --db-pass f', 'app --db-password *** --hf-token *** --wandb-api-key *** --use-auth-token *** --oauth2-bearer *** --db-pass ***'],
    ['server -token abc -password=def', 'server -token *** -password=***'],
    // Environment-style and dotted assignments, also inside other values.
    ['env AWS_SECRET_ACCESS_KEY=xyz PGPASSWORD=p HF_TOKEN=t MY_SECRET=s DB_PASS=q OPENAI_API_KEY=o python x.py', 'env AWS_SECRET_ACCESS_KEY=*** PGPASSWORD=*** HF_TOKEN=*** MY_SECRET=*** DB_PASS=*** OPENAI_API_KEY=*** python x.py'],
    ['docker run -e HF_TOKEN=abc --env=AWS_SECRET_ACCESS_KEY=xyz img', 'docker run -e HF_TOKEN=*** --env=AWS_SECRET_ACCESS_KEY=*** img'],
    ['python train.py db.password=p wandb.api_key=k', 'python train.py db.password=*** wandb.api_key=***'],
    ['helm install x --set a=1,auth.password=pw', 'helm install x --set a=1,auth.password=***'],
    // URLs with credentials.
    ['psql postgres://alice:s3cret@db:5432/app', 'psql postgres://alice:***@db:5432/app'],
    ['app --broker=amqp://u:p@ss@mq/vhost redis://:pw@cache:6379', 'app --broker=amqp://u:***@mq/vhost redis://:***@cache:6379'],
    ['app DATABASE_URL=mysql://root:pw@db/x', 'app DATABASE_URL=mysql://root:***@db/x'],
    ['curl https://api.example/v1?token=abc&x=1', 'curl https://api.example/v1?token=***'],
    // Headers and bearer tokens.
    ['curl -H Authorization: Bearer eyJhbGci.x.y https://x', 'curl -H Authorization: Bearer *** https://x'],
    ['curl -H "Authorization: Basic dXNlcjpwYXNz" https://x', 'curl -H "Authorization: Basic *** https://x'],
    ['curl -H X-Api-Key: k1 -H Private-Token:t2 https://x', 'curl -H X-Api-Key: *** -H Private-Token:*** https://x'],
    ['app --header=Authorization: Bearer tok', 'app --header=Authorization: Bearer ***'],
    // Program-specific short flags.
    ['mysql -uroot -psecret db', 'mysql -uroot -p*** db'],
    ['docker exec db mysqldump -psecret x', 'docker exec db mysqldump -p*** x'],
    ['sshpass -p pw ssh -p 22 host', 'sshpass -p *** ssh -p 22 host'],
    ['mongosh -u admin -p pw --port 27017', 'mongosh -u admin -p *** --port 27017'],
    ['redis-cli -a pw ping', 'redis-cli -a *** ping'],
    ['openssl enc -k pw -passin pass:x -passout env:Y', 'openssl enc -k *** -passin *** -passout ***'],
    ['docker login -u me -p pw registry.example', 'docker login -u me -p *** registry.example'],
    ['curl -u user:pw --proxy-user=me:pw2 -Uu3:pw3 https://x', 'curl -u user:*** --proxy-user=me:*** -Uu3:*** https://x'],
    // Shell strings: quoted values to their closing quote.
    ['sh -c "python t.py --token \'a b\' --x 1"', 'sh -c "python t.py --token *** --x 1"'],
    ['app --password "two words" --next', 'app --password *** --next'],
    ['app --password="two words" --next', 'app --password=*** --next'],
  ])('%s', (input, expected) => {
    expect(redactCmdline(input)).toBe(expected);
  });
});

describe('redactCmdline: what stays as it is', () => {
  it.each([
    'python3 train.py --epochs 10 --lr 0.01',
    'python3 -u train.py --batch-size 32 --model llama --data /data/x --seed 1',
    'python gen.py --pad-token <pad> --eos-token </s> --max-new-tokens 12 --max-token 5 --pad-token-id 0 --tokenizer t5',
    'pg_dump --no-password --password-file /run/pw --token-stdin --access-key-id AKIA db',
    'mongod --auth --port 27017',
    'mongod --auth -f /etc/mongod.conf',
    'ffmpeg -i in.mp4 -pass 1 -two-pass --two-pass -f null /dev/null',
    'docker run -p 8080:80 -u 1000:1000 img',
    'mysql -p db',
    'ssh -p 2222 user@host',
    'git clone https://github.com/org/repo.git',
    'curl -u user https://user@example.com/x',
    'nginx: worker process',
    'postgres: alice mydb 10.0.0.2(5432) idle',
    '[kworker/0:1]',
    'TOKENIZERS_PARALLELISM=false CUDA_VISIBLE_DEVICES=0 AWS_ACCESS_KEY_ID=AKIA python x.py sort_key=name',
    'edgewatch hub --no-auth --port 8080',
    '',
  ])('%j', (line) => {
    expect(redactCmdline(line)).toBe(line);
  });
});

describe('redactArgv', () => {
  it('masks a whole argument, spaces and all, that is a value', () => {
    expect(redactArgv(['x', '--password', 'two words', '--password=a b', 'DB_PASSWORD=a b', '-H', 'X-Api-Key: k1 k2', '-H', 'Authorization: Digest u="a", r="b"'])).toEqual([
      'x',
      '--password',
      '***',
      '--password=***',
      'DB_PASSWORD=***',
      '-H',
      'X-Api-Key: ***',
      '-H',
      'Authorization: Digest ***',
    ]);
    expect(redactArgv(['mysql', '-ptwo words', 'db'])).toEqual(['mysql', '-p***', 'db']);
  });

  it('checks shell commands and setproctitle lines word by word', () => {
    expect(redactArgv(['sh', '-c', 'mysql -psecret && curl -H "Authorization: Bearer tok" https://x'])).toEqual([
      'sh',
      '-c',
      'mysql -p*** && curl -H "Authorization: Bearer *** https://x',
    ]);
    expect(redactArgv(['worker --token abc --epochs 3'])).toEqual(['worker --token *** --epochs 3']);
  });

  it('keeps what the properties once found', () => {
    expect(redactArgv(['postgres://a:Q7=@a/db'])).toEqual(['postgres://a:***@a/db']);
    expect(redactCmdline('--password -token Q7')).toBe('--password -token ***');
    expect(redactCmdline('curl -u AWS_SECRET_ACCESS_KEY=Q7')).toBe('curl -u AWS_SECRET_ACCESS_KEY=***');
    expect(redactCmdline('--password mysql -pQ7')).toBe('--password *** -p***');
    const once = redactArgv(['Bearer', 'curl', '--password', '-u']);
    expect(redactArgv(once)).toEqual(once);
  });

  it('takes the next flag for the next flag, not a value', () => {
    expect(redactArgv(['app', '--token', '--password', 'p', '--epochs', '3'])).toEqual(['app', '--token', '--password', '***', '--epochs', '3']);
    expect(redactArgv(['app', '--password'])).toEqual(['app', '--password']);
    expect(redactArgv(['app', '--password', ''])).toEqual(['app', '--password', '']);
  });
});

describe('URLs, names and formatCmdline modes', () => {
  it('masks only the password part of URL credentials', () => {
    expect(maskUrls('a https://u:p@h/x?y=1#z b')).toBe('a https://u:***@h/x?y=1#z b');
    expect(maskUrls('https://u@h https://h:8080/a@b')).toBe('https://u@h https://h:8080/a@b');
    expect(maskUrls('s3://k:@bucket ://x:y@z')).toBe('s3://k:@bucket ://x:y@z');
  });

  it('names the executable by argv[0]\'s basename', () => {
    expect(commandName('/usr/bin/python3', 'python3')).toBe('python3');
    expect(commandName('postgres: checkpointer', 'postgres')).toBe('postgres');
    expect(commandName('', 'kthreadd')).toBe('kthreadd');
  });

  it('formats full (masked), name and none', () => {
    const raw = nul('/usr/bin/python3', 'serve.py', '--password', 'hunter2', '--token=abc123', 'AWS_SECRET_ACCESS_KEY=xyz');
    expect(formatCmdline(raw, 'python3')).toBe('/usr/bin/python3 serve.py --password *** --token=*** AWS_SECRET_ACCESS_KEY=***');
    expect(formatCmdline(raw, 'python3', 'full')).toBe(formatCmdline(raw, 'python3'));
    expect(formatCmdline(raw, 'python3', 'name')).toBe('python3');
    expect(formatCmdline(raw, 'python3', 'none')).toBe('');
    expect(formatCmdline('', 'kworker/0:1', 'name')).toBe('[kworker/0:1]');
    expect(formatCmdline('', 'kworker/0:1', 'none')).toBe('');
  });

  it('masks before shortening, so a cut never leaves part of a secret', () => {
    const secret = 'S'.repeat(400);
    const out = formatCmdline(nul('app', `${'x'.repeat(240)}`, '--password', secret), 'app');
    expect(out.length).toBeLessThanOrEqual(MAX_CMD_CHARS);
    expect(out).not.toContain('SS');
  });
});

// --- properties -------------------------------------------------------------------------

const PROGRAMS = ['mysql', 'mysqldump', 'mariadb', 'sshpass', 'mongo', 'mongosh', 'redis-cli', 'openssl', 'docker', 'podman', 'helm', 'curl', 'login'];

/** Ordinary words: lower case and digits, never a program name or `bearer`. */
const plainWord = fc.stringMatching(/^[a-z0-9][a-z0-9._/]{0,10}$/).filter((w) => !PROGRAMS.includes(w) && w !== 'bearer');
const userWord = fc.stringMatching(/^[a-z][a-z0-9._]{0,8}$/);
/** Flags training and serving scripts take, with their values. */
const ORDINARY_FLAGS = ['epochs', 'lr', 'batch-size', 'model', 'data', 'device', 'max-tokens', 'max-new-tokens', 'pad-token', 'eos-token', 'pad-token-id', 'num-workers', 'seed', 'config', 'output', 'port', 'host', 'no-password', 'password-file', 'token-file', 'access-key-id', 'tokenizer', 'two-pass'];
const ordinaryArgs: fc.Arbitrary<string[]> = fc.oneof(
  plainWord.map((w) => [w]),
  fc.tuple(fc.constantFrom(...ORDINARY_FLAGS), plainWord).map(([f, v]) => [`--${f}`, v]),
  fc.tuple(fc.constantFrom(...ORDINARY_FLAGS), plainWord).map(([f, v]) => [`--${f}=${v}`]),
  fc.constantFrom('-q', '-v', '--verbose', 'CUDA_VISIBLE_DEVICES=0', 'OMP_NUM_THREADS=4', 'TOKENIZERS_PARALLELISM=false', 'http://host:8080/x', 'user@host').map((a) => [a]),
);
const ordinaryLine = fc.tuple(fc.constantFrom('python3', '/usr/bin/python3', 'torchrun', 'node', './serve'), fc.array(ordinaryArgs, { maxLength: 12 })).map(([p, a]) => [p, ...a.flat()]);

/**
 * A secret: no white space or quotes, not starting with `-`, and holding an upper-case letter
 * and a digit next to each other, which no ordinary word or flag name has.
 */
const secretValue = (extraExcluded = ''): fc.Arbitrary<string> =>
  fc
    .tuple(fc.stringMatching(/^[A-Za-z0-9!#$%&*+,.:;<>@^_~|{}=-]{0,12}$/), fc.constantFrom('Q7', 'Z9', 'K3'), fc.stringMatching(/^[A-Za-z0-9!#$%&*+,.:;<>@^_~|{}=-]{0,12}$/))
    .map(([a, m, b]) => `${a}${m}${b}`)
    .filter((s) => !s.startsWith('-') && ![...extraExcluded].some((c) => s.includes(c)));

const SECRET_FLAGS = ['--password', '--passwd', '--pass', '--token', '--api-key', '--apikey', '--secret', '--client-secret', '--access-key', '--hf-token', '--db-password', '-token', '--API_KEY', '--Password'];
const ENV_NAMES = ['AWS_SECRET_ACCESS_KEY', 'HF_TOKEN', 'MY_SECRET', 'PGPASSWORD', 'DB_PASSWORD_X', 'OPENAI_API_KEY'];

interface SecretPart {
  args: string[];
  expected: string[];
  secret: string;
}

/** One secret construct as argv elements, with what it must become. */
const secretPart: fc.Arbitrary<SecretPart> = fc.oneof(
  fc.tuple(fc.constantFrom(...SECRET_FLAGS), secretValue()).map(([f, s]) => ({ args: [f, s], expected: [f, MASK], secret: s })),
  fc.tuple(fc.constantFrom(...SECRET_FLAGS), secretValue()).map(([f, s]) => ({ args: [`${f}=${s}`], expected: [`${f}=${MASK}`], secret: s })),
  fc.tuple(fc.constantFrom(...ENV_NAMES), secretValue()).map(([n, s]) => ({ args: [`${n}=${s}`], expected: [`${n}=${MASK}`], secret: s })),
  fc
    .tuple(fc.constantFrom('postgres', 'https', 'redis', 'amqp'), userWord, secretValue('/?#'), plainWord)
    .map(([scheme, user, s, host]) => ({ args: [`${scheme}://${user}:${s}@${host}/db`], expected: [`${scheme}://${user}:${MASK}@${host}/db`], secret: s })),
  fc.tuple(fc.constantFrom('Bearer', 'bearer', 'Basic'), secretValue()).map(([scheme, s]) => ({ args: ['-H', `Authorization: ${scheme} ${s}`], expected: ['-H', `Authorization: ${scheme} ${MASK}`], secret: s })),
  secretValue().map((s) => ({ args: ['mysql', `-p${s}`], expected: ['mysql', `-p${MASK}`], secret: s })),
  fc.tuple(plainWord, secretValue()).map(([u, s]) => ({ args: ['curl', '-u', `${u}:${s}`], expected: ['curl', '-u', `${u}:${MASK}`], secret: s })),
  secretValue().map((s) => ({ args: ['sshpass', '-p', s], expected: ['sshpass', '-p', MASK], secret: s })),
);

/** An ordinary line with secret constructs spliced in at random places. */
const lineWithSecrets = fc
  .tuple(ordinaryLine, fc.array(fc.tuple(secretPart, fc.nat()), { minLength: 1, maxLength: 4 }))
  .map(([base, parts]) => {
    const args: string[][] = base.map((a) => [a]);
    const expected: string[][] = base.map((a) => [a]);
    for (const [part, at] of parts) {
      // Anywhere after the program: an ordinary flag before it takes no secret value.
      const i = 1 + (at % args.length);
      args.splice(i, 0, part.args);
      expected.splice(i, 0, part.expected);
    }
    return { argv: args.flat(), expected: expected.flat(), secrets: parts.map(([p]) => p.secret) };
  });

/** Anything: random text, and words that steer the rules (quotes, flags, programs, headers). */
const CONFUSERS = ['"', "'", '--password', '--token=', '-token', '--auth', '-p', '-pX', 'mysql', 'sshpass', 'mongosh', 'redis-cli', '-a', 'openssl', '-passin', 'curl', '-u', 'Authorization:', 'X-Api-Key:', 'Bearer', 'Basic', '=', ':', '@', '--', 'x://', 'x://a:b@', 'A_KEY=', 'a.password=', '$(', 'login', 'docker'];
const anyArg = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom(...CONFUSERS), plainWord);
const anyArgv = fc.array(anyArg, { maxLength: 16 });
const anyText = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), anyArgv.map((a) => a.join(' ')));

const RUNS = { numRuns: 500 };

describe('redaction properties', () => {
  it('never throws, on any text or arguments', () => {
    fc.assert(
      fc.property(anyText, anyArgv, (text, argv) => {
        redactCmdline(text);
        redactArgv(argv);
      }),
      RUNS,
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const once = redactCmdline(text);
        expect(redactCmdline(once)).toBe(once);
      }),
      RUNS,
    );
    fc.assert(
      fc.property(fc.oneof(anyArgv, lineWithSecrets.map((l) => l.argv)), (argv) => {
        const once = redactArgv(argv);
        expect(redactArgv(once)).toEqual(once);
      }),
      RUNS,
    );
  });

  it('grows a line by at most 2 characters per masked value, and never to more than twice its length', () => {
    const check = (input: string, out: string): void => {
      const masks = out.split(MASK).length - 1;
      expect(out.length).toBeLessThanOrEqual(input.length + 2 * masks);
      expect(out.length).toBeLessThanOrEqual(2 * input.length);
    };
    fc.assert(
      fc.property(anyText, anyArgv, fc.oneof(lineWithSecrets.map((l) => l.argv), ordinaryLine), (text, argv, line) => {
        check(text, redactCmdline(text));
        check(argv.join(' '), redactArgv(argv).join(' '));
        check(line.join(' '), redactArgv(line).join(' '));
      }),
      RUNS,
    );
  });

  it('masks every generated secret and nothing else, as arguments and as one string', () => {
    fc.assert(
      fc.property(lineWithSecrets, ({ argv, expected, secrets }) => {
        const out = redactArgv(argv);
        expect(out).toEqual(expected);
        const text = redactCmdline(argv.join(' '));
        expect(text).toBe(expected.join(' '));
        for (const s of secrets) {
          expect(out.join(' ')).not.toContain(s);
          expect(text).not.toContain(s);
          expect(formatCmdline(nul(...argv), 'x')).not.toContain(s);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves no secret behind among arbitrary words either', () => {
    fc.assert(
      fc.property(anyArgv, secretPart, fc.nat(), (noise, part, at) => {
        const i = at % (noise.length + 1);
        const argv = [...noise.slice(0, i), ...part.args, ...noise.slice(i)];
        // The secret may occur in the noise or the flag names by chance; only its own occurrence must go.
        const joined = [...noise.slice(0, i), ...part.expected, ...noise.slice(i)].join(' ');
        fc.pre(!joined.includes(part.secret));
        expect(redactArgv(argv).join(' ')).not.toContain(part.secret);
        expect(redactCmdline(argv.join(' '))).not.toContain(part.secret);
      }),
      { numRuns: 1000 },
    );
  });

  it('takes the shortcut only where the full pass would change nothing', () => {
    expect(mayHoldSecret('/usr/lib/systemd/systemd-journald')).toBe(false);
    expect(mayHoldSecret('app --Pass-Word x')).toBe(true);
    fc.assert(
      fc.property(anyArgv, anyText, (argv, text) => {
        expect(redactArgv(argv)).toEqual(redactArgvFully(argv));
        expect(redactCmdline(text)).toBe(redactCmdlineFully(text));
        if (!mayHoldSecret(argv.join(' '))) expect(redactArgvFully(argv)).toEqual(argv);
        if (!mayHoldSecret(text)) expect(redactCmdlineFully(text)).toBe(text);
      }),
      RUNS,
    );
  });

  it('shows the same shortened line when it stops at the limit', () => {
    const long = fc.array(fc.oneof(anyArg, secretPart.map((p) => p.args.join(' '))), { minLength: 10, maxLength: 60 });
    fc.assert(
      fc.property(long, fc.integer({ min: 1, max: 300 }), (argv, limit) => {
        const cut = (a: string[]): string => {
          const t = a.join(' ');
          return t.length <= limit ? t : t.slice(0, limit);
        };
        expect(cut(redactArgv(argv, limit))).toBe(cut(redactArgv(argv)));
      }),
      RUNS,
    );
  });

  it('leaves ordinary command lines unchanged', () => {
    fc.assert(
      fc.property(ordinaryLine, (argv) => {
        expect(redactArgv(argv)).toEqual(argv);
        expect(redactCmdline(argv.join(' '))).toBe(argv.join(' '));
      }),
      RUNS,
    );
  });
});
