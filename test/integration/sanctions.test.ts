/**
 * Sanctions screening against the compiled daemon on the real runtime: a legal name on an imported
 * list goes to the operator's review queue with the entry and is not judged; the operator still
 * decides; a new list screens a judged legal name again without touching its judgement; a display
 * name on a list (REGISTRAR_SANCTIONS_DISPLAY=on) waits for the operator; names never reach the
 * logs or the public status; a list URL that fails keeps the list there was.
 */

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cli } from '../support/cli.js';
import { confirm, DaemonHarness, eventually, FEE, freePort } from '../support/harness.js';
import { linkIn } from '../support/smtp.js';

const ADMIN_TOKEN = 'sanctions-test-admin-token-0123456789abcdef';
const fixture = (name: string) => new URL(`../fixtures/sanctions/${name}`, import.meta.url).pathname;
let h: DaemonHarness;
let adminPort: number;

interface Hit {
  account: string;
  field: string;
  uid: string;
  name: string;
  reason: string;
  list: { format: string };
  reviewed?: { decision: string; reviewer: string };
}

const hitsOf = async (account: string): Promise<Hit[]> => {
  const result = await cli(['sanctions', 'hits', '--json'], h.env());
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as Hit[]).filter((hit) => hit.account === account);
};

beforeAll(async () => {
  adminPort = await freePort();
  // Display, legal name and email; the legal name is reviewed by the operator, display names screened.
  h = await DaemonHarness.start(1 | 2 | 16, {
    REGISTRAR_ADMIN_TOKEN: ADMIN_TOKEN,
    REGISTRAR_ADMIN_PORT: String(adminPort),
    REGISTRAR_REVIEW_FIELDS: 'legal',
    REGISTRAR_SANCTIONS_DISPLAY: 'on',
  });
});

afterAll(async () => {
  await h?.close();
});

describe('sanctions screening', () => {
  it('puts a listed legal name in the review queue with the entry; it is not judged until the operator decides', async () => {
    const imported = await cli(['sanctions', 'import', fixture('sdn.xml')], h.env());
    expect(imported.stdout).toContain('Imported the ofac list of 2026-11-28 (6 entries) from sdn.xml.');
    // Written in Cyrillic, the patronymic left out: still the listed KORSAKOV, Ivan Petrovich.
    const person = await h.newPerson({
      display: 'Vanya',
      email: 'vanya@example.org',
      legal: 'Иван Корсаков',
    });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    await confirm(linkIn(await h.mailbox.nextMail('vanya@example.org')));
    const waiting = await h.statusBecomes(person.address, 'open');
    const hits = await eventually(async () => {
      const found = await hitsOf(person.address);
      return found.length > 0 ? found : undefined;
    }, 'a sanctions hit');
    expect(hits).toEqual([
      expect.objectContaining({
        field: 'legal',
        uid: '90001',
        name: 'Ivan Petrovich KORSAKOV',
        reason: 'request',
        list: expect.objectContaining({ format: 'ofac', listDate: '2026-11-28' }),
      }),
    ]);
    expect(hits[0]?.reviewed).toBeUndefined();
    // The operator sees it in the queue, by request, and with the request.
    const pending = await cli(['pending'], h.env());
    expect(pending.stdout).toMatch(new RegExp(`${person.address}.*1 hit\\(s\\)`));
    const status = await cli(['status', person.address], h.env());
    expect(status.stdout).toContain('sanctions screening hits (review queue):');
    expect(status.stdout).toMatch(
      /legal\s+ofac 2026-11-28\s+90001\s+Ivan Petrovich KORSAKOV\s+\d\.\d\d\s+no/,
    );
    // The hit decides nothing: the field still awaits the operator, the slot is still FeePaid.
    expect(waiting.fields.legal).toMatchObject({ status: 'awaiting', review: true });
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('FeePaid');
    // Nobody but the operator learns of it: not the public status, not the logs.
    const publicStatus = await (await fetch(`${h.url}/status/${person.address}`)).text();
    expect(publicStatus).not.toMatch(/90001|KORSAKOV|sanction/i);
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    expect(metrics).toContain('registrar_sanctions_hits_total{field="legal"} 1');
    // The operator weighs it and confirms (a namesake): judged, and the hit shows the review.
    const yes = await cli(
      [
        'review',
        person.address,
        'legal',
        '--confirm',
        '--identity',
        waiting.identityHash ?? '',
        '--by',
        'Ann Ops',
      ],
      h.env(),
    );
    expect(yes.stdout).toContain('is confirmed');
    await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
    expect((await hitsOf(person.address))[0]?.reviewed).toMatchObject({
      decision: 'confirm',
      reviewer: 'Ann Ops',
    });
  });

  it('screens judged legal names again when a new list is imported, and leaves their judgement alone', async () => {
    const person = await h.newPerson({
      display: 'Tolya',
      email: 'tolya@example.org',
      legal: 'Belogorov Anatoly',
    });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    await confirm(linkIn(await h.mailbox.nextMail('tolya@example.org')));
    const looked = await h.statusBecomes(person.address, 'open');
    expect(await hitsOf(person.address)).toEqual([]);
    const yes = await cli(
      ['review', person.address, 'legal', '--confirm', '--identity', looked.identityHash ?? ''],
      h.env(),
    );
    expect(yes.code).toBe(0);
    await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);

    const imported = await cli(['sanctions', 'import', fixture('eu.xml')], h.env());
    expect(imported.code).toBe(0);
    // Both judged legal names are screened again; only this one is on the EU list.
    expect(imported.stdout).toMatch(/Screened [2-9]\d* name\(s\) again: 1 new hit\(s\) in the review queue/);
    expect(await hitsOf(person.address)).toEqual([
      expect.objectContaining({
        field: 'legal',
        uid: '800001',
        reason: 'import',
        list: expect.objectContaining({ format: 'eu' }),
      }),
    ]);
    // No judgement by itself: still Reasonable on chain, nothing submitted.
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
    // Imported again: the same hits are not queued twice.
    const again = await cli(['sanctions', 'import', fixture('eu.xml')], h.env());
    expect(again.stdout).toContain('0 new hit(s)');
    const state = await cli(['sanctions', 'status'], h.env());
    expect(state.stdout).toMatch(
      /eu\s+eu.xml\s+2026-12-01\s+\S+\s+4\nofac\s+sdn.xml\s+2026-11-28\s+\S+\s+6\n/,
    );
  });

  it('holds a listed display name for the operator (REGISTRAR_SANCTIONS_DISPLAY=on) instead of confirming it', async () => {
    const person = await h.newPerson({
      display: 'Dmitri Ostrovsky',
      email: 'dima@example.org',
      legal: 'Dima O',
    });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    await confirm(linkIn(await h.mailbox.nextMail('dima@example.org')));
    const waiting = await h.statusBecomes(person.address, 'open');
    expect(waiting.fields.display).toMatchObject({ status: 'failed' });
    // The person waits; nothing to change, and no word of a list.
    const blocker = waiting.blockers.find((b) => b.field === 'display');
    expect(blocker).toMatchObject({
      kind: 'wait',
      reason: 'the registrar reviews this display name by hand before confirming it',
    });
    expect(await hitsOf(person.address)).toEqual([
      expect.objectContaining({ field: 'display', uid: '90005' }),
    ]);
    // The operator allows it and reviews the legal name: then it is judged.
    const allowed = await cli(
      ['review', person.address, 'display', '--confirm', '--value', 'Dmitri Ostrovsky'],
      h.env(),
    );
    expect(allowed.code).toBe(0);
    const legal = await cli(['review', person.address, 'legal', '--confirm', '--value', 'Dima O'], h.env());
    expect(legal.code).toBe(0);
    await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
    // No name of anyone screened is in the daemon's log.
    expect(h.logs()).not.toMatch(/Корсаков|Korsakov|Belogorov|Ostrovsky|KORSAKOV|BELOGOROV/i);
  });

  it('screens a legal name again when the person edits it, for the identity as edited', async () => {
    const person = await h.newPerson({ display: 'Nikos', email: 'nikos@example.org', legal: 'Maria Lopez' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const first = await h.statusBecomes(person.address, 'open');
    expect(await hitsOf(person.address)).toEqual([]);
    // The edit keeps the pending request (FeePaid survives set_identity); the new name is listed.
    await h.chain.setIdentity(person, {
      display: 'Nikos',
      email: 'nikos@example.org',
      legal: 'Ν. Παπαδάκης',
    });
    const hits = await eventually(async () => {
      const found = await hitsOf(person.address);
      return found.length > 0 ? found : undefined;
    }, 'a hit for the edited legal name');
    const edited = await h.statusOf(person.address);
    expect(edited.identityHash).not.toBe(first.identityHash);
    expect(hits).toEqual([
      expect.objectContaining({
        field: 'legal',
        uid: '800002',
        identityHash: edited.identityHash,
        reason: 'request',
      }),
    ]);
    expect(edited.fields.legal).toMatchObject({ status: 'awaiting', review: true });
  });

  it('refuses an upload that is no list, a bad query, a DOCTYPE, a stranger and the public port, keeping the lists', async () => {
    const admin = `http://127.0.0.1:${adminPort}`;
    const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const before = (await cli(['sanctions', 'status'], h.env())).stdout;
    const post = (query: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${admin}/admin/sanctions/import?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/xml', ...bearer, ...headers },
        body,
      });
    const sdn = readFileSync(fixture('sdn.xml'), 'utf8');
    const refusals: [string, Response, RegExp][] = [
      [
        'JSON',
        await post('source=x', '{"entries":[]}', { 'content-type': 'application/json' }),
        /expected the list file as the body/,
      ],
      ['no source', await post('', sdn), /not understood: querystring must have required property 'source'/],
      ['an unknown format', await post('source=x&format=un', sdn), /not understood: querystring.format/],
      ['an unknown key', await post('source=x&unknown=1', sdn), /not understood/],
      ['a source of 1,000 characters', await post(`source=${'x'.repeat(1_000)}`, sdn), /not understood/],
      [
        'entities that expand',
        await post(
          'source=x',
          `<?xml version="1.0"?><!DOCTYPE sdnList [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>${sdn.slice(sdn.indexOf('<sdnList'))}`,
        ),
        /DOCTYPE/,
      ],
      [
        'an HTML page',
        await post('source=x', '<html><body>Moved</body></html>'),
        /expected the OFAC SDN XML/,
      ],
    ];
    for (const [what, response, message] of refusals) {
      expect([what, response.status, await response.text()]).toEqual([
        what,
        400,
        expect.stringMatching(message),
      ]);
    }
    // Without the token, or on the public server: nothing.
    const stranger = await fetch(`${admin}/admin/sanctions/import?source=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: sdn,
    });
    expect(stranger.status).toBe(401);
    expect((await fetch(`${admin}/admin/sanctions`)).status).toBe(401);
    expect((await fetch(`${h.url}/admin/sanctions`, { headers: bearer })).status).toBe(404);
    expect((await cli(['sanctions', 'status'], h.env())).stdout).toBe(before);
  });

  it('keeps the list there was when its URL fails, and fetches it from the URL when it answers', async () => {
    let body = 'Service Unavailable';
    let code = 503;
    const server: Server = createServer((_request, response) => {
      response.writeHead(code, { 'content-type': 'application/xml' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lists/eu.xml?token=secret-token`;
    try {
      await h.restart({ REGISTRAR_SANCTIONS_URL: url });
      const failed = await eventually(async () => {
        const metrics = await (await fetch(`${h.url}/metrics`)).text();
        return metrics.includes('registrar_sanctions_fetches_total{outcome="failed"} 1')
          ? metrics
          : undefined;
      }, 'a failed fetch counted');
      expect(failed).toContain('registrar_sanctions_fetches_total');
      expect(h.logs()).toContain('sanctions list fetch failed; the kept list stays');
      const kept = await cli(['sanctions', 'status'], h.env());
      expect(kept.stdout).toMatch(/eu\s+eu.xml\s+2026-12-01/);

      const queued = JSON.parse((await cli(['sanctions', 'hits', '--json'], h.env())).stdout)
        .length as number;
      expect(queued).toBeGreaterThan(0);
      body = readFileSync(fixture('eu.xml'), 'utf8').replace('2026-12-01T16', '2026-12-04T16');
      code = 200;
      await h.restart({ REGISTRAR_SANCTIONS_URL: url });
      const fetched = await eventually(async () => {
        const state = await cli(['sanctions', 'status'], h.env());
        return state.stdout.includes('2026-12-04') ? state.stdout : undefined;
      }, 'the list fetched from its URL');
      // The source kept is the address without its query (which may hold a token).
      expect(fetched).toMatch(/eu\s+http:\/\/127\.0\.0\.1:\d+\/lists\/eu\.xml\s+2026-12-04/);
      expect(fetched).not.toContain('secret-token');
      expect(h.logs()).not.toContain('secret-token');
      // The hits known from the earlier EU list are not queued again for the newer one.
      const state = await cli(['sanctions', 'status'], h.env());
      expect(state.stdout).toContain(`review queue: ${queued} hit(s)`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
