/**
 * The status of a request as the person and the operator see it (the status page and JSON, the
 * admin API): each field's state with its reason and next step, and what blocks the judgement.
 * Reads only.
 */
import type { SubIdentity } from '../chain/identity.js';
import type { Channel } from '../channels/channel.js';
import type { Field } from '../domain/fields.js';
import { maskedTarget } from '../domain/prepared.js';
import { isLiveChallenge, isProving, type JudgementRequest } from '../domain/request.js';
import type { Grace } from '../domain/sweep.js';
import { type Blocker, blockers, canBeJudgedAsItStands, labelOf } from '../domain/verification.js';
import type { Store } from '../store/store.js';
import type { ChainReader } from './lifecycle.js';

export interface RequestStatusView {
  account: string;
  registrarIndex: number;
  status: JudgementRequest['status'] | 'none';
  /** While open: blake2_256 of the identity being verified, the one a judgement will be pinned to. */
  identityHash?: string;
  /** Whether the request can be judged as it stands once the person answers what was sent. */
  judgeable: boolean;
  fields: Partial<
    Record<
      Field,
      {
        status: string;
        label: string;
        value?: string;
        reason?: string;
        hint?: string;
        /** A message for this field waits in the outbox until then (a limit or a retry). */
        nextMessageAt?: number;
        /** Where the person proves this field on the registrar's site (a sign-in, a signature, a published code). */
        proveAt?: string;
        /** Awaiting the operator's review, not the person. */
        review?: true;
        /** The last proof tried for it and refused, and when: what to do about it is in the reason. */
        refusal?: { reason: string; at: number };
        /**
         * The last message sent for it: where (masked: anyone can open this page) and when. Shown
         * so that whoever prepared a request sees what it made the registrar send.
         */
        sent?: { to: string; at: number };
        /**
         * Judged, and the sweep found its proof gone: what it found, and until when it can be
         * restored before the judgement becomes OutOfDate.
         */
        grace?: { reason: string; since: number; until: number };
      }
    >
  >;
  /** Set entries no registrar can verify: listed, never attested. */
  unverifiable: string[];
  blockers: Blocker[];
  /**
   * This account is a sub-identity: its parent, the name the parent gave it, and the parent's
   * judgement by this registrar (none when it gave none). Read when no request is open.
   */
  subOf?: { parent: string; name?: string; parentJudgement?: string };
  /** The sub-identities this identity names, when it is judged. */
  subs?: { account: string; name?: string }[];
}

/** What the chain says of an account's parent and its sub-identities. */
export interface FamilyReader {
  subOf(account: string): Promise<SubIdentity | undefined>;
  subs(parent: string): Promise<SubIdentity[]>;
}

export interface StatusOptions {
  store: Store;
  chain: Pick<ChainReader, 'accountId' | 'identity'>;
  /** Sub-identities shown as such; without it the status says nothing of them. */
  family?: FamilyReader;
  channels: ReadonlyMap<Field, Channel>;
  registrarIndex: number;
  now: () => number;
}

export class StatusReader {
  private readonly channels: ReadonlyMap<Field, Channel>;
  private readonly now: () => number;

  constructor(private readonly o: StatusOptions) {
    this.channels = o.channels;
    this.now = o.now;
  }

  /** The request of `address` as the status endpoint shows it; undefined when it is no address. */
  async status(address: string): Promise<RequestStatusView | undefined> {
    const account = this.o.chain.accountId(address);
    if (!account) return undefined;
    const request = await this.o.store.latestRequest(account, this.o.registrarIndex);
    if (!request) {
      const subOf = await this.subOf(account);
      return {
        account,
        registrarIndex: this.o.registrarIndex,
        status: 'none',
        judgeable: false,
        fields: {},
        unverifiable: [],
        // A sub-identity is shown under its parent's identity: it needs no judgement of its own.
        blockers: subOf
          ? []
          : [
              {
                reason: 'no judgement request from this account is known',
                hint: `Request a judgement from registrar #${this.o.registrarIndex}.`,
                kind: 'change',
              },
            ],
        ...(subOf ? { subOf } : {}),
      };
    }
    const open = isProving(request.status) || request.status === 'judging';
    const { waiting, sent } = open
      ? await this.messages(request)
      : { waiting: new Map<Field, { at: number; problem?: string }>(), sent: new Map<Field, Sent>() };
    const graces = request.status === 'judged' ? await this.graces(account) : new Map<Field, Grace>();
    const fields: RequestStatusView['fields'] = {};
    for (const [field, state] of Object.entries(request.fields) as [
      Field,
      NonNullable<JudgementRequest['fields'][Field]>,
    ][]) {
      const label = labelOf(field);
      const next = waiting.get(field);
      // A closed request shows what happened, not the values: they are no business of anyone now.
      const grace = graces.get(field);
      fields[field] = !open
        ? { status: state.status, label, ...(grace ? { grace } : {}) }
        : state.status === 'failed'
          ? { status: state.status, label, value: state.value, reason: state.reason, hint: state.hint }
          : state.status === 'missing'
            ? { status: state.status, label, reason: state.reason, hint: state.hint }
            : state.status === 'ignored'
              ? { status: state.status, label, value: state.value, reason: state.reason }
              : {
                  status: state.status,
                  label,
                  value: state.value,
                  ...(next ? { nextMessageAt: next.at } : {}),
                  ...(next?.problem ? { hint: next.problem } : {}),
                  ...(state.status === 'awaiting' && this.channels.get(field)?.page
                    ? { proveAt: `/prove/${account}/${field}` }
                    : {}),
                  ...(state.status === 'awaiting' && state.refusal ? { refusal: state.refusal } : {}),
                  ...(sent.has(field) ? { sent: sent.get(field) } : {}),
                  ...(state.status === 'awaiting' && this.channels.get(field)?.review
                    ? {
                        review: true as const,
                        hint: 'The registrar checks this field by hand: there is nothing to do but wait.',
                      }
                    : {}),
                };
    }
    return {
      account,
      registrarIndex: request.registrarIndex,
      status: request.status,
      ...(open ? { identityHash: request.snapshot.hash } : {}),
      judgeable: open && canBeJudgedAsItStands(request),
      fields,
      unverifiable: open ? (request.unverifiable ?? []) : [],
      blockers: isProving(request.status) ? blockers(request) : [],
      // Read only for a closed request: the open ones' views are the live, frequently read ones.
      ...(open ? {} : await this.familyOf(account, request.status === 'judged')),
    };
  }

  /** The judged account's proofs the sweep found gone, by field (a judged request's view only). */
  private async graces(account: string): Promise<Map<Field, Grace>> {
    const proofs = await this.o.store.listJudgedProofs(account, this.o.registrarIndex);
    return new Map(proofs.flatMap((p) => (p.grace ? [[p.field, p.grace] as const] : [])));
  }

  /** The parent (and its judgement by this registrar) of `account` when it is a sub-identity. */
  private async subOf(account: string): Promise<RequestStatusView['subOf']> {
    const sub = await this.o.family?.subOf(account);
    if (!sub) return undefined;
    const slot = (await this.o.chain.identity(sub.parent))?.judgements.find(
      (j) => j.registrarIndex === this.o.registrarIndex,
    );
    return {
      parent: sub.parent,
      ...(sub.name === undefined ? {} : { name: sub.name }),
      ...(slot && slot.judgement !== 'FeePaid' ? { parentJudgement: slot.judgement } : {}),
    };
  }

  /** For a closed request: whose sub-identity the account is, and (judged) the subs it names. */
  private async familyOf(
    account: string,
    judged: boolean,
  ): Promise<Pick<RequestStatusView, 'subOf' | 'subs'>> {
    if (!this.o.family) return {};
    const [subOf, subs] = await Promise.all([
      this.subOf(account),
      judged ? this.o.family.subs(account) : Promise.resolve([]),
    ]);
    return {
      ...(subOf ? { subOf } : {}),
      ...(subs.length > 0
        ? { subs: subs.map(({ account, name }) => (name === undefined ? { account } : { account, name })) }
        : {}),
    };
  }

  /**
   * Fields whose message waits in the outbox for a later time (a limit or a retry), and when; and
   * where and when the last message of each field of the current snapshot went, masked.
   */
  private async messages(
    request: JudgementRequest,
  ): Promise<{ waiting: Map<Field, { at: number; problem?: string }>; sent: Map<Field, Sent> }> {
    const now = this.now();
    const waiting = new Map<Field, { at: number; problem?: string }>();
    const sent = new Map<Field, Sent>();
    for (const challenge of await this.o.store.listChallenges(request.id)) {
      // Oldest first, so the last one delivered stays; only messages that went somewhere count.
      if (
        challenge.deliveredAt !== undefined &&
        challenge.snapshotHash === request.snapshot.hash &&
        this.channels.get(challenge.field)?.messages !== false
      ) {
        sent.set(challenge.field, {
          to: maskedTarget(challenge.field, challenge.subject),
          at: challenge.deliveredAt,
        });
      }
      if (!isLiveChallenge(challenge, now) || challenge.deliveredAt !== undefined) continue;
      if (challenge.nextDeliveryAt !== undefined && challenge.nextDeliveryAt > now) {
        waiting.set(challenge.field, {
          at: challenge.nextDeliveryAt,
          ...(challenge.deliveryProblem ? { problem: challenge.deliveryProblem } : {}),
        });
      }
    }
    return { waiting, sent };
  }
}

type Sent = { to: string; at: number };
