/**
 * The bad-input corpus, driven through the real daemon: identities with every `Data` variant and
 * hostile bytes in every field (written straight into chain storage, as no extrinsic could refuse
 * them), and hostile HTTP requests (tampered, expired, replayed, truncated tokens; malformed forms
 * and headers; huge URLs). Each gets a clear answer, nothing changes that should not, and the
 * daemon stays healthy.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { u8aToHex } from '@polkadot/util';
import jwt from 'jsonwebtoken';
import { undecodableIdentities } from '../../src/dev/storage-identities.js';
import { confirm, DaemonHarness, eventually, FEE, type StatusView } from '../support/harness.js';
import { linkIn } from '../support/smtp.js';

const DISPLAY_AND_EMAIL = 1 | 16;
const bytes = (text: string) => u8aToHex(new TextEncoder().encode(text));

/** A field value as SCALE `Data`, by name; `hostile`: it must fail with a reason, never be proven. */
interface DataCase {
  name: string;
  data: Record<string, string> | 'None';
  hostile: boolean;
}

const HASHES = ['BlakeTwo256', 'Sha256', 'Keccak256', 'ShaThree256'];

/** Values every text field is tried with. `good` is a value valid for the field. */
function dataCases(good: string): DataCase[] {
  return [
    { name: 'valid', data: { Raw: bytes(good) }, hostile: false },
    ...HASHES.map((h) => ({ name: `hashed ${h}`, data: { [h]: `0x${'ab'.repeat(32)}` }, hostile: true })),
    { name: 'non-UTF-8 byte', data: { Raw: `${bytes(good.slice(0, 3))}ff` }, hostile: true },
    { name: 'broken UTF-8 sequence', data: { Raw: '0xc328' }, hostile: true },
    { name: 'overlong UTF-8', data: { Raw: `0xc0af${bytes(good).slice(2)}` }, hostile: true },
    { name: 'lone surrogate', data: { Raw: `0xeda080${bytes(good).slice(2)}` }, hostile: true },
    { name: 'NUL byte', data: { Raw: bytes(`${good.slice(0, 2)}\u0000${good.slice(2)}`) }, hostile: true },
    { name: 'newline', data: { Raw: bytes(`${good.slice(0, 2)}\n${good.slice(2)}`) }, hostile: true },
    { name: 'escape', data: { Raw: bytes(`\u001b[31m${good}`.slice(0, 32)) }, hostile: true },
    { name: 'bidi override', data: { Raw: bytes(`\u202e${good}`.slice(0, 30)) }, hostile: true },
    { name: 'bidi isolate', data: { Raw: bytes(`\u2067${good}`.slice(0, 30)) }, hostile: true },
    {
      name: 'zero-width space',
      data: { Raw: bytes(`${good.slice(0, 2)}\u200b${good.slice(2)}`) },
      hostile: true,
    },
    {
      name: 'zero-width joiner',
      data: { Raw: bytes(`${good.slice(0, 2)}\u200d${good.slice(2)}`) },
      hostile: true,
    },
    { name: 'byte order mark', data: { Raw: bytes(`\ufeff${good}`.slice(0, 30)) }, hostile: true },
    {
      name: 'line separator',
      data: { Raw: bytes(`${good.slice(0, 2)}\u2028${good.slice(2)}`) },
      hostile: true,
    },
    { name: 'soft hyphen', data: { Raw: bytes(`${good.slice(0, 2)}\u00ad${good.slice(2)}`) }, hostile: true },
  ];
}

const EMAIL_ONLY: DataCase[] = [
  { name: 'name part', data: { Raw: bytes('Eve <e@example.org>') }, hostile: true },
  { name: 'two addresses', data: { Raw: bytes('a@example.org,b@example.org') }, hostile: true },
  { name: 'group', data: { Raw: bytes('g: a@example.org;') }, hostile: true },
  { name: 'no at sign', data: { Raw: bytes('nobody.example.org') }, hostile: true },
  { name: 'quoted local part', data: { Raw: bytes('"a b"@example.org') }, hostile: true },
  { name: 'address literal', data: { Raw: bytes('a@[127.0.0.1]') }, hostile: true },
  { name: 'comment', data: { Raw: bytes('a(c)@example.org') }, hostile: true },
  { name: 'spaces', data: { Raw: bytes(' a@example.org ') }, hostile: true },
  { name: 'empty', data: { Raw: '0x' }, hostile: true },
  { name: 'SMTP injection', data: { Raw: bytes('a@example.org\r\nRCPT TO:<x>') }, hostile: true },
];

const DISPLAY_ONLY: DataCase[] = [
  { name: 'empty', data: { Raw: '0x' }, hostile: true },
  { name: 'only spaces', data: { Raw: bytes('    ') }, hostile: true },
  { name: '32 characters', data: { Raw: bytes('A'.repeat(32)) }, hostile: false },
  { name: 'accented', data: { Raw: bytes('Zoë Ågård') }, hostile: false },
  { name: 'markup', data: { Raw: bytes('<script>x</script>') }, hostile: false },
];

/** Fields outside the mask: set, listed as not verified, never attested, whatever their bytes. */
const OUTSIDE = ['legal', 'web', 'twitter', 'github', 'discord', 'image', 'matrix'] as const;

interface IdentityCase {
  id: string;
  field: string;
  data: DataCase['data'];
  hostile: boolean;
}

const IDENTITY_CASES: IdentityCase[] = [
  ...[...dataCases('Alice Example'), ...DISPLAY_ONLY].map((c) => ({
    ...c,
    id: `display ${c.name}`,
    field: 'display',
  })),
  ...[...dataCases('case@example.org'), ...EMAIL_ONLY].map((c) => ({
    ...c,
    id: `email ${c.name}`,
    field: 'email',
  })),
  ...OUTSIDE.flatMap((field) =>
    dataCases('someone_1').map((c) => ({ ...c, id: `${field} ${c.name}`, field, hostile: false })),
  ),
];

let h: DaemonHarness;
const accounts = new Map<string, string>();

beforeAll(async () => {
  h = await DaemonHarness.start(DISPLAY_AND_EMAIL);
  const valueType = h.chain.api.query.identity.identityOf.creator.meta.type.asMap.value;
  const tuple = h.chain.api.registry.lookup.getTypeDef(valueType).type.startsWith('(');
  const entries: unknown[] = [];
  IDENTITY_CASES.forEach((c, i) => {
    const account = h.chain.account(`//BadInput${i}`).address;
    accounts.set(c.id, account);
    const info: Record<string, unknown> = {
      display: c.field === 'display' ? c.data : { Raw: bytes(`Case ${i}`) },
      email: c.field === 'email' ? c.data : { Raw: bytes(`case${i}@example.org`) },
    };
    if (c.field !== 'display' && c.field !== 'email') info[c.field] = c.data;
    const registration = { judgements: [[h.index, { FeePaid: Number(FEE) }]], deposit: 0, info };
    entries.push([[account], tuple ? [registration, null] : registration]);
  });
  await h.chain.api.rpc('dev_setStorage', { Identity: { IdentityOf: entries } });
  // The requests were never announced by an event: the start-up reconciliation finds them.
  await h.restart();
}, 120_000);

afterAll(async () => {
  await h?.close();
});

describe('identities with hostile data', () => {
  it.each(IDENTITY_CASES.map((c) => [c.id, c] as const))('%s gets a clear state', async (_id, c) => {
    const status: StatusView = await h.statusOf(accounts.get(c.id) ?? '');
    expect(status.status).toBe('open');
    const field = status.fields[c.field];
    expect(field).toBeDefined();
    if (OUTSIDE.includes(c.field as (typeof OUTSIDE)[number])) {
      // Outside the mask: never verified, whatever it holds.
      expect(field?.status).toBe('ignored');
      return;
    }
    if (c.hostile) {
      expect(field?.status).toBe('failed');
      expect(field?.reason).toEqual(expect.any(String));
      expect(field?.hint).toEqual(expect.any(String));
      expect(status.judgeable).toBe(false);
    } else {
      expect(['confirmed', 'awaiting']).toContain(field?.status);
    }
  });

  it('mailed only the well-formed addresses, each once, and stayed healthy', async () => {
    const wellFormed = IDENTITY_CASES.filter((c) => !(c.field === 'email' && c.hostile)).length;
    const recipients = await eventually(
      async () => (h.mailbox.recipients.length >= wellFormed ? [...h.mailbox.recipients] : undefined),
      `${wellFormed} mails`,
      60_000,
    );
    expect(recipients).toHaveLength(wellFormed);
    expect(new Set(recipients).size).toBe(recipients.length);
    for (const address of recipients) expect(address).toMatch(/^case\d*@example\.org$/);
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  }, 90_000);
});

describe('a stored value that does not decode', () => {
  it('is skipped with the account logged, and its open request is left as it is', async () => {
    const [first, second] = IDENTITY_CASES;
    const account = accounts.get(first?.id ?? '') ?? '';
    const other = accounts.get(second?.id ?? '') ?? '';
    expect((await h.statusOf(account)).status).toBe('open');
    // Pending for us by its head, but what follows is no IdentityInfo (as a later runtime's new
    // `Data` variant would look to this one).
    const key = h.chain.api.query.identity.identityOf.key(account);
    await h.chain.api.rpc('dev_setStorage', [[key, undecodableIdentities(h.index).pendingWithoutInfo]]);
    // The start-up scan reads every entry again.
    await h.restart();
    const skipped = h
      .logs()
      .split('\n')
      .filter((line) => line.includes('does not decode'));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toContain(`"account":"${account}"`);
    expect(skipped[0]).not.toMatch(/0x[0-9a-f]{8,}/i);
    // Not closed as if gone, not planned again from bytes it cannot read; the rest as before.
    expect((await h.statusOf(account)).status).toBe('open');
    expect((await h.statusOf(other)).status).toBe('open');
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  }, 90_000);
});

describe('hostile requests', () => {
  let link = '';
  let token = '';
  let person = '';
  const secret = 'integration-test-secret-0123456789abcdef';
  // The claims keep the original's issuer, id and times unless a case changes them.
  const sign = (claims: Record<string, unknown>, options: jwt.SignOptions = {}) =>
    jwt.sign(claims, secret, { algorithm: 'HS256', ...options });

  beforeAll(async () => {
    const someone = await h.newPerson({ display: 'Target Person', email: 'target@example.org' });
    person = someone.address;
    await h.chain.requestJudgement(someone, h.index, 2n * FEE);
    link = linkIn(await h.mailbox.nextMail('target@example.org'));
    token = link.split('/confirm/')[1] ?? '';
  }, 60_000);

  const tokenCases = (): [string, string][] => {
    const [head = '', body = '', signature = ''] = token.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    return [
      ...[0, 5, 10, 20, 30].map((i): [string, string] => [
        `signature flipped at ${i}`,
        `${head}.${body}.${flip(signature, i)}`,
      ]),
      ...[0, 10, 40, 80].map((i): [string, string] => [
        `payload flipped at ${i}`,
        `${head}.${flip(body, i)}.${signature}`,
      ]),
      ...[1, 10, 50, 100, token.length - 1].map((n): [string, string] => [
        `truncated to ${n}`,
        token.slice(0, n),
      ]),
      ['expired', sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 60 })],
      ['another registrar', sign({ ...claims, reg: Number(claims.reg) + 1 })],
      ['another field', sign({ ...claims, fld: 'matrix' })],
      ['unknown field', sign({ ...claims, fld: 'passport' })],
      ['another account', sign({ ...claims, sub: h.registrar.address })],
      ['another snapshot', sign({ ...claims, snap: `0x${'00'.repeat(32)}` })],
      ['unknown challenge', sign({ ...claims, jti: '00000000-0000-0000-0000-000000000000' })],
      ['no issuer', sign({ ...claims, iss: undefined })],
      ['another issuer', sign({ ...claims, iss: 'someone-else' })],
      ['HS512', sign({ ...claims }, { algorithm: 'HS512' })],
      ['alg none', `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${body}.`],
      ['another secret', jwt.sign({ ...claims }, 'x'.repeat(40), { algorithm: 'HS256' })],
      ['empty segments', '...'],
      ['not base64', '%%%.***.!!!'],
      ['percent-encoded NUL', '%00'],
      ['unicode', 'ẗöḳëń'],
      ['2000 characters', 'a'.repeat(2000)],
      ['SQL', "' OR 1=1 --"],
      ['markup', '<script>alert(1)</script>'],
    ];
  };

  it('refuses every tampered, forged, truncated or expired token, confirming nothing', async () => {
    const cases = tokenCases();
    expect(cases.length).toBeGreaterThanOrEqual(30);
    const unexpected: string[] = [];
    for (const [name, bad] of cases) {
      for (const method of ['GET', 'POST'] as const) {
        const response = await fetch(`${h.url}/confirm/${encodeURIComponent(bad)}`, { method });
        const body = await response.text();
        if (![404, 410, 414].includes(response.status) || body.includes('<script>alert')) {
          unexpected.push(`${method} ${name}: ${response.status}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
    expect((await h.statusOf(person)).fields.email?.status).toBe('awaiting');
  });

  it('answers malformed forms, headers and URLs with a 4xx, and stays healthy', async () => {
    const url = h.url;
    const form = (body: string, type = 'application/x-www-form-urlencoded') =>
      fetch(`${url}/code`, { method: 'POST', headers: { 'content-type': type }, body });
    const cases: [string, () => Promise<Response>, number[]][] = [
      ['code: empty body', () => form(''), [400]],
      ['code: no code', () => form(`account=${person}&field=email`), [400]],
      ['code: unknown field', () => form(`account=${person}&field=passport&code=ABCD2345`), [400]],
      ['code: not an account', () => form('account=bob&field=email&code=ABCD2345'), [400]],
      ['code: 33-character code', () => form(`account=${person}&field=email&code=${'A'.repeat(33)}`), [400]],
      ['code: wrong code', () => form(`account=${person}&field=email&code=ABCD2345`), [422]],
      ['code: broken percent-encoding', () => form(`account=%E0%A4%A&field=email&code=%`), [400]],
      ['code: JSON body', () => form(JSON.stringify({ account: person }), 'application/json'), [400, 415]],
      [
        'code: JSON code as a list',
        () => form(JSON.stringify({ account: person, field: 'email', code: ['A'] }), 'application/json'),
        [400],
      ],
      [
        'code: JSON code as a number',
        () => form(JSON.stringify({ account: person, field: 'email', code: 12345678 }), 'application/json'),
        [400],
      ],
      [
        'code: JSON account as an object',
        () => form(JSON.stringify({ account: { $ne: '' }, field: 'email', code: 'A' }), 'application/json'),
        [400],
      ],
      ['code: multipart body', () => form('--x\r\n\r\n--x--', 'multipart/form-data; boundary=x'), [400, 415]],
      ['code: 20 KiB body', () => form(`account=${'a'.repeat(20_000)}`), [413]],
      ['code: repeated fields', () => form(`field=email&field=email&account=${person}&code=A`), [400, 422]],
      ['status: not an address', () => fetch(`${url}/status/not-an-address`), [400]],
      ['status: 5000 characters', () => fetch(`${url}/status/${'A'.repeat(5000)}`), [400, 414]],
      [
        'status: markup',
        () => fetch(`${url}/status/%3Cscript%3E`, { headers: { accept: 'text/html' } }),
        [400],
      ],
      ['status: path traversal', () => fetch(`${url}/status/..%2F..%2Fetc%2Fpasswd`), [400, 404]],
      ['resend: not an address', () => fetch(`${url}/status/xyz/resend`, { method: 'POST' }), [400]],
      ['huge URL', () => fetch(`${url}/${'x'.repeat(100_000)}`), [404, 414, 431]],
      ['huge query', () => fetch(`${url}/status?account=${'x'.repeat(60_000)}`), [303, 400, 414, 431]],
      ['huge header', () => fetch(`${url}/`, { headers: { 'x-junk': 'x'.repeat(40_000) } }), [431]],
      ['unknown method', () => fetch(`${url}/confirm/${token}`, { method: 'PATCH' }), [404, 405]],
      ['no such page', () => fetch(`${url}/wp-admin.php`), [404]],
    ];
    const unexpected: string[] = [];
    for (const [name, send, expected] of cases) {
      const response = await send();
      if (!expected.includes(response.status)) unexpected.push(`${name}: ${response.status}`);
    }
    expect(unexpected).toEqual([]);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await h.statusOf(person)).fields.email?.status).toBe('awaiting');
    // The real link still works once after all that.
    expect((await confirm(link)).status).toBe(200);
    expect((await confirm(link)).status).toBe(410);
  });

  it('logged none of it: no token, address or secret', () => {
    const logs = h.logs();
    for (const leak of [
      secret,
      h.env().REGISTRAR_PROXY_SEED,
      '@example.org',
      '/confirm/',
      'eyJ',
      '<script>',
    ]) {
      expect(logs).not.toContain(leak);
    }
  });
});
