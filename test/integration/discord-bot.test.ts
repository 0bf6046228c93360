/**
 * The Discord bot of a community server (discord.js against a local Discord REST API and gateway):
 * the member whose username the identity names gets the challenge by direct message and proves it by
 * replying with the code; the same code from another member counts for nothing; a member who does not
 * accept DMs (50007) and someone outside the server get a hint on the status page instead, and the
 * message is retried, not lost. The member's ID is kept with a code's proof: the sweep reads the
 * account again by it, and a member who renamed is told of the grace by DM.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Member, TestDiscord } from '../../src/dev/stand-ins/discord-gateway.js';
import { confirm, DaemonHarness, eventually, FEE } from '../support/harness.js';

const DISPLAY_DISCORD = 1 | 512;
const BOT_TOKEN = 'discord-bot-token-0123456789';

let h: DaemonHarness;
let discord: TestDiscord;

beforeAll(async () => {
  discord = await TestDiscord.start();
  h = await DaemonHarness.start(DISPLAY_DISCORD, {
    ...discord.env(BOT_TOKEN),
    REGISTRAR_MESSAGE_COOLDOWN_SECONDS: '0',
    // The sweep reads judged accounts again every 2 s here (test-only settings), with a long grace.
    REGISTRAR_RECHECK_JUDGED_SECONDS: '2',
    REGISTRAR_GRACE_SECONDS: '3600',
  });
  await discord.ready();
}, 180_000);

afterAll(async () => {
  await h?.close();
  await discord?.close();
});

const member = (id: string, username: string, openDms = true): Member => {
  const m = { id, username, openDms };
  discord.members.set(id, m);
  return m;
};

const codeIn = (content: string) => /code ([A-Z2-9]{8})/.exec(content)?.[1] ?? '';

describe('the Discord bot', () => {
  it('DMs the member the identity names and takes the code back from that member only', async () => {
    const alice = member('4000000000000000001', 'alice_dm');
    const mallory = member('4000000000000000002', 'mallory');
    const person = await h.newPerson({ display: 'Alice Dm', discord: 'Alice_DM' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const dm = await discord.nextDmTo(alice.id);
    expect(dm.content).toContain(person.address);
    expect(dm.content).toContain('"Alice Dm"');
    const code = codeIn(dm.content);
    expect(code).toMatch(/^[A-Z2-9]{8}$/);

    // The code forwarded to someone else and sent from their account proves nothing.
    discord.say(mallory, code);
    const refused = await discord.nextDmTo(mallory.id);
    expect(refused.content).toContain('not valid');
    expect((await h.statusOf(person.address)).fields.discord?.status).toBe('awaiting');
    // The handle passes to another account, which sends the code it was forwarded: not the
    // account the message went to, so nothing is confirmed.
    alice.username = 'alice_old';
    mallory.username = 'alice_dm';
    discord.say(mallory, code);
    const otherMember = await discord.nextDmTo(mallory.id, 1);
    expect(otherMember.content).toContain('another Discord account than the one the message went to');
    expect((await h.statusOf(person.address)).fields.discord?.status).toBe('awaiting');
    mallory.username = 'mallory';
    alice.username = 'alice_dm';

    discord.say(alice, `here it is: ${code.toLowerCase()}`);
    const thanks = await discord.nextDmTo(alice.id, 1);
    expect(thanks.content).toContain(`proven for ${person.address}`);
    await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
    expect(await h.chain.judgementOf(person.address, h.index)).toBe('Reasonable');
    // Kept for the sweep, which reads the account again with the bot's token: the handle and the
    // ID of the member who sent the code (whatever the member later renames to).
    const kept = await eventually(
      () => h.withStore(async (store) => (await store.listJudgedProofs(person.address, h.index))[0]),
      'the judged Discord proof kept',
    );
    expect(kept).toMatchObject({ field: 'discord', subject: 'alice_dm', serviceId: alice.id });

    // Alice renames her account: the sweep reads it by its ID, finds the handle gone, and tells
    // her by DM, at the ID proven (no link, no code); the new owner of a name is never written to.
    alice.username = 'alice_renamed';
    mallory.username = 'alice_dm';
    const notice = await discord.nextDmTo(alice.id, 2, 30_000);
    expect(notice.content).toContain('no longer has the handle alice_dm');
    expect(notice.content).toContain('Restore it before');
    expect(notice.content).toContain(`/status/${person.address}`);
    expect(notice.content).not.toMatch(/\/confirm\/|code [A-Z2-9]{8}/);
    expect((await h.statusOf(person.address)).fields.discord?.grace?.reason).toContain('alice_dm');
    // Whoever holds the name now is told nothing.
    expect(discord.sent.filter((m) => m.to === mallory.id)).toHaveLength(2);
    expect(h.logs()).not.toContain(BOT_TOKEN);
  });

  it('says on the status page when the member does not accept DMs (50007), and delivers once they do', async () => {
    const closed = member('4000000000000000003', 'closed_dms', false);
    const person = await h.newPerson({ display: 'Closed Dms', discord: 'closed_dms' });
    await h.chain.requestJudgement(person, h.index, 2n * FEE);
    const view = await eventually(async () => {
      const status = await h.statusOf(person.address);
      return status.fields.discord?.hint ? status : undefined;
    }, 'the 50007 hint');
    expect(view.fields.discord).toMatchObject({
      status: 'awaiting',
      hint: "Open your direct messages to members of the registrar's Discord server, or sign in with Discord instead.",
      nextMessageAt: expect.any(Number),
    });
    expect(discord.sent.filter((m) => m.to === closed.id)).toEqual([]);
    // They open their DMs: the outbox's next try (30 s after the first) delivers.
    closed.openDms = true;
    const dm = await discord.nextDmTo(closed.id, 0, 60_000);
    expect(codeIn(dm.content)).toMatch(/^[A-Z2-9]{8}$/);
    expect((await h.statusOf(person.address)).fields.discord?.hint).toBeUndefined();
    // Proven by the DM's link rather than a code sent back: the ID of the member the bot wrote to
    // is kept with the proof all the same.
    const link = /open (\S+) and press Confirm/.exec(dm.content)?.[1] ?? '';
    expect((await confirm(link)).status).toBeLessThan(400);
    await h.chain.waitForEvent('identity', 'JudgementGiven', (e) => e.data.target === person.address);
    const kept = await eventually(
      () => h.withStore(async (store) => (await store.listJudgedProofs(person.address, h.index))[0]),
      'the judged Discord proof kept',
    );
    expect(kept).toMatchObject({ field: 'discord', subject: 'closed_dms', serviceId: closed.id });

    const outsider = await h.newPerson({ display: 'Not A Member', discord: 'outsider_1' });
    await h.chain.requestJudgement(outsider, h.index, 2n * FEE);
    const outside = await eventually(async () => {
      const status = await h.statusOf(outsider.address);
      return status.fields.discord?.hint ? status : undefined;
    }, 'the not-a-member hint');
    expect(outside.fields.discord?.hint).toContain("Join the registrar's Discord server");
  }, 120_000);
});
