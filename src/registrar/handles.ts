/**
 * One account per handle, at the proof: a handle (domain/handles.ts) already proven for another
 * person's account is refused (or let through with a log line, or not looked at: the operator's
 * rule). Claims are kept in the store under an HMAC of the handle, made when a field is confirmed
 * and dropped when its request closes unjudged or loses the field, so an abandoned request does
 * not hold a handle for ever. A parent and its sub-identities are one person (read from SuperOf).
 */
import type { Field } from '../domain/fields.js';
import { type HandleRule, handleNames, personOf } from '../domain/handles.js';
import type { JudgementRequest } from '../domain/request.js';
import { labelOf } from '../domain/verification.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../support/log.js';

export interface HandleGuardOptions {
  rule: HandleRule;
  store: Store;
  /** The stored key of a handle: an HMAC under the registrar's secret (tokens.ts). */
  key: (handle: string) => string;
  /** The parent of a sub-identity, read from the chain; undefined for an account that is no sub. */
  parentOf: (account: string) => Promise<string | undefined>;
  log: Logger;
  now: () => number;
}

/** What the person reads: that the handle is taken, never by which account. */
export function takenRefusal(field: Field): string {
  return `This ${labelOf(field)} was already proven for another account with this registrar, and one ${labelOf(field)} is verified for one person's accounts only (an identity and its sub-identities). Set one of your own, or ask for the judgement on the account that proved it.`;
}

export class HandleGuard {
  constructor(private readonly o: HandleGuardOptions) {}

  private keys(field: Field, subject: string, serviceId?: string): string[] {
    return handleNames(field, subject, serviceId).map(this.o.key);
  }

  /** Why `account` may not prove `subject` for `field`, or undefined when it may. */
  async refusal(
    account: string,
    field: Field,
    subject: string,
    serviceId?: string,
  ): Promise<string | undefined> {
    if (this.o.rule === 'off') return undefined;
    return this.verdict(account, field, await this.strangers(account, this.keys(field, subject, serviceId)));
  }

  /**
   * Claims the handle for `request` before its proof is used up, then looks again: of two
   * accounts proving one handle at the same instant, each then sees the other's claim and both are
   * refused, never both let through. Returns the refusal (the claim withdrawn) or undefined.
   */
  async reserve(
    request: JudgementRequest,
    field: Field,
    subject: string,
    serviceId?: string,
  ): Promise<string | undefined> {
    if (this.o.rule === 'off') return undefined;
    const keys = this.keys(field, subject, serviceId);
    const before = await this.strangers(request.account, keys);
    if (before.length > 0 && this.o.rule === 'refuse') return this.verdict(request.account, field, before);
    await this.claim(request, field, subject, serviceId);
    const after = await this.strangers(request.account, keys);
    const refused = this.verdict(request.account, field, after);
    if (refused) await this.withdraw(request, field);
    return refused;
  }

  /** A reserved claim whose proof did not go through: it goes, unless the field was proven before. */
  async withdraw(request: JudgementRequest, field: Field): Promise<void> {
    if (request.fields[field]?.status !== 'confirmed') await this.release(request.id, [field]);
  }

  /** The holders of `keys` that are not `account`'s person (itself, its parent, its parent's subs). */
  private async strangers(account: string, keys: readonly string[]): Promise<string[]> {
    const holders = (await this.o.store.handleHolders(keys)).filter((holder) => holder !== account);
    if (holders.length === 0) return [];
    const person = personOf(account, await this.o.parentOf(account));
    // The parent itself, or another sub of the same parent: the same person.
    const strangers: string[] = [];
    for (const holder of holders) {
      if (personOf(holder, await this.o.parentOf(holder)) !== person) strangers.push(holder);
    }
    return strangers;
  }

  /** What the rule makes of `strangers` holding the handle: a refusal, a log line, or nothing. */
  private verdict(account: string, field: Field, strangers: readonly string[]): string | undefined {
    if (strangers.length === 0) return undefined;
    if (this.o.rule === 'warn') {
      this.o.log.warn(
        { account, field, heldBy: strangers.length },
        'handle already proven for another account; let through (REGISTRAR_ONE_ACCOUNT_PER_HANDLE=warn)',
      );
      return undefined;
    }
    this.o.log.info({ account, field }, 'handle already proven for another account; proof refused');
    return takenRefusal(field);
  }

  /** `request` proved `subject` for `field`: the handle is held by its account from now on. */
  async claim(request: JudgementRequest, field: Field, subject: string, serviceId?: string): Promise<void> {
    if (this.o.rule === 'off') return;
    const at = this.o.now();
    await this.o.store.claimHandles(
      this.keys(field, subject, serviceId).map((key) => ({
        key,
        account: request.account,
        requestId: request.id,
        field,
        at,
      })),
    );
  }

  /** The request closed unjudged (all its claims go) or no longer holds these fields proven. */
  async release(requestId: string, fields?: readonly Field[]): Promise<void> {
    await this.o.store.releaseHandles(requestId, fields);
  }
}
