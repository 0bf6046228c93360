/**
 * Proving before paying, end to end: the compiled daemon against a real People runtime, a real SMTP
 * server and the embedded store. A person proves the email before `requestJudgement`; the request
 * is judged in the next blocks with no new message; an edit in between proves the changed field
 * again; nothing is judged without a request; a stranger's tries are limited.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KeyringPair } from '@polkadot/keyring/types';
import { confirm, DaemonHarness, eventually, FEE, type StatusView } from '../support/harness.js';
import { linkIn } from '../support/smtp.js';

const DISPLAY_AND_EMAIL = 1 | 16;
/** Every POST here comes from 127.0.0.1, one client: its allowance for the whole file. */
const PER_CLIENT = 4;

let h: DaemonHarness;

beforeAll(async () => {
  h = await DaemonHarness.start(DISPLAY_AND_EMAIL, {
    REGISTRAR_PREPARES_PER_CLIENT_PER_DAY: String(PER_CLIENT),
  });
});

afterAll(async () => {
  await h?.close();
});

/** The start page's "Prove my fields now" form, posted. */
const prepare = (account: string) =>
  fetch(`${h.url}/prepare`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ account }).toString(),
    redirect: 'manual',
  });

/** The block number of the block with hash `hash`. */
const numberOf = async (hash: string) => (await h.chain.api.rpc.chain.getHeader(hash)).number.toNumber();

/** Prepares `person`'s request through the form and proves its email with the link mailed. */
async function proveBeforeRequest(person: KeyringPair, email: string): Promise<void> {
  const response = await prepare(person.address);
  expect(response.status).toBe(303);
  expect(response.headers.get('location')).toBe(`/status/${person.address}`);
  const mail = await h.mailbox.nextMail(email);
  const confirmed = await confirm(linkIn(mail));
  expect(confirmed.status).toBe(200);
  expect(await confirmed.text()).toContain('request the judgement on chain');
}

describe('proving before paying', () => {
  it('proves the email before the request and judges the same identity in the next blocks, with no new message', async () => {
    const person = await h.newPerson({ display: 'Early Bird', email: 'early@example.org' });
    await proveBeforeRequest(person, 'early@example.org');

    const prepared = await h.statusBecomes(person.address, 'prepared');
    expect(prepared.fields.email?.status).toBe('confirmed');
    expect(prepared.blockers).toEqual([]);
    // Where the mail went, masked (it is counted as sent once the mail server took it).
    const sent = await eventually(async () => {
      const view = (await h.statusOf(person.address)) as StatusView & {
        fields: { email?: { sent?: { to: string } } };
      };
      return view.fields.email?.sent;
    }, 'the status saying where the mail went');
    expect(sent.to).toBe('e***@e***.org');
    const page = await fetch(`${h.url}/status/${person.address}`, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(html).toContain('Not requested yet: you can prove your fields now');
    expect(html).toContain(`identity.requestJudgement(${h.index}, ${FEE})`);
    expect(html).toContain('Sent to e***@e***.org');
    // Every field proven and nothing paid: nothing is judged.
    expect(await h.chain.judgementOf(person.address, h.index)).toBeUndefined();

    const requested = await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const given = await h.chain.waitForEvent(
      'identity',
      'JudgementGiven',
      (e) => e.data.target === person.address && e.data.registrarIndex === h.index,
    );
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
    // The first judgement of this account came after the request (none was given before it), in
    // the next blocks (Instant blocks; a generous bound for a busy box).
    const after = (await numberOf(given.blockHash)) - (await numberOf(requested.blockHash));
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(3);
    expect(h.mailbox.mailsTo('early@example.org')).toHaveLength(1);
    await h.statusBecomes(person.address, 'judged');
  });

  it('proves again a field edited before the request, and keeps the unchanged ones', async () => {
    const person = await h.newPerson({ display: 'Second Thought', email: 'before@example.org' });
    await proveBeforeRequest(person, 'before@example.org');
    await h.chain.setIdentity(person, { display: 'Second Thought', email: 'after@example.org' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);

    // The edit alone (IdentitySet, before the request) already sends the new address its mail.
    const mail = await h.mailbox.nextMail('after@example.org');
    const open = await h.statusBecomes(person.address, 'open');
    expect(open.fields.display?.status).toBe('confirmed');
    expect(open.fields.email).toMatchObject({ status: 'awaiting', value: 'after@example.org' });
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('FeePaid');

    expect((await confirm(linkIn(mail))).status).toBe(200);
    await h.chain.waitForEvent(
      'identity',
      'JudgementGiven',
      (e) => e.data.target === person.address && e.data.registrarIndex === h.index,
    );
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
  });

  it('limits a stranger: asking again sends nothing, and one client address has a few tries a day', async () => {
    const person = await h.newPerson({ display: 'Target Person', email: 'target@example.org' });
    expect((await prepare(person.address)).status).toBe(303);
    await h.mailbox.nextMail('target@example.org');
    // Asked again while it is prepared: the status page, nothing new sent.
    expect((await prepare(person.address)).status).toBe(303);
    const other = await h.newPerson({ display: 'Other Person', email: 'other@example.org' });
    // This file's client has now used its allowance: one try in each test above, the target's and
    // this one (asking again for one already prepared is not a try).
    expect((await prepare(other.address)).status).toBe(303);
    const refused = await prepare(
      (await h.newPerson({ display: 'Fourth', email: 'fourth@example.org' })).address,
    );
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.text()).toContain('Too many fields proven before a request from your address today');
    await h.mailbox.nextMail('other@example.org');
    expect(h.mailbox.mailsTo('target@example.org')).toHaveLength(1);
    expect(h.mailbox.mailsTo('fourth@example.org')).toHaveLength(0);
    // A bad address is a clear 400, and a GET of the form's address changes nothing.
    expect((await prepare('not-an-address')).status).toBe(400);
    expect((await fetch(`${h.url}/prepare`)).status).toBe(404);
  });
});
