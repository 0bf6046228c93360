/**
 * The corpus of the display-name guard: the display names of every identity that holds Reasonable
 * or KnownGood from any registrar. Filled by the watcher's full scans of chain storage (page by
 * page, at a pinned block) and kept current from identity events; only the name is kept of each.
 */
import type { ApiPromise } from '@polkadot/api';
import type { Codec } from '@polkadot/types/types';
import { textOf } from '../domain/identity.js';
import type { LookAlikeIndex } from '../domain/look-alikes.js';
import { registrationOf } from './identity.js';
import type { ScanVisitor, StoredIdentity } from './stored-identities.js';

const GOOD = new Set(['Reasonable', 'KnownGood']);

type MapCodec = Codec & { get(key: string): Codec | undefined };
type EnumCodec = Codec & { type: string; value: Codec };

/** The display name of a registration that some registrar judged good; undefined otherwise. */
export function judgedDisplayName(value: Codec): string | undefined {
  const registration = registrationOf(value);
  if (!registration) return undefined;
  const judgements = registration.get('judgements') as unknown as Iterable<Codec[]>;
  let good = false;
  for (const [, judgement] of judgements) good ||= GOOD.has((judgement as EnumCodec).type);
  if (!good) return undefined;
  const display = (registration.get('info') as MapCodec).get('display') as EnumCodec | undefined;
  return display?.type === 'Raw' ? textOf(display.value.toU8a(true)) : undefined;
}

export class JudgedNames implements ScanVisitor {
  /** The accounts whose names the full scan under way has seen. */
  private seen: Set<string> | undefined;
  /** Families read ahead for accounts about to be checked (one page of openings), each used once. */
  private ahead = new Map<string, Set<string>>();

  constructor(
    private readonly api: ApiPromise,
    readonly index: LookAlikeIndex,
  ) {}

  beginScan(): void {
    this.seen = new Set();
  }

  /** One entry of a full scan of IdentityOf (the watcher's): its name counts if it was judged good. */
  visit(entry: StoredIdentity): void {
    // Decoded in full only when judged good: the name is all that is kept.
    const good = entry.judgements.some((slot) => GOOD.has(slot.judgement));
    const name = good ? judgedDisplayName(entry.value()) : undefined;
    if (name === undefined) {
      this.index.delete(entry.account);
      return;
    }
    this.index.set(entry.account, name);
    this.seen?.add(entry.account);
  }

  /** Names the whole scan did not see are of identities gone without an event seen (downtime). */
  endScan(): void {
    const seen = this.seen;
    this.seen = undefined;
    if (!seen) return;
    for (const account of this.index.accounts()) if (!seen.has(account)) this.index.delete(account);
  }

  /** An identity event named `account`: read its registration again. */
  async refresh(account: string): Promise<void> {
    const name = judgedDisplayName(await this.api.query.identity.identityOf(account));
    if (name === undefined) this.index.delete(account);
    else this.index.set(account, name);
  }

  /** The account and its sub-identities, which a name may resemble without impersonating anyone. */
  async family(account: string): Promise<Set<string>> {
    const ahead = this.ahead.get(account);
    if (ahead) {
      this.ahead.delete(account);
      return ahead;
    }
    return familyOf(account, await this.api.query.identity.subsOf(account));
  }

  /** Reads the families of `accounts` in one query; those of the last read not used are dropped. */
  async readFamilies(accounts: readonly string[]): Promise<void> {
    const subs = accounts.length > 0 ? await this.api.query.identity.subsOf.multi([...accounts]) : [];
    this.ahead = new Map(accounts.map((account, i) => [account, familyOf(account, subs[i])]));
  }
}

function familyOf(account: string, subsOf: Codec | undefined): Set<string> {
  const subs = subsOf as unknown as [Codec, Iterable<Codec>] | undefined;
  return new Set([account, ...[...(subs?.[1] ?? [])].map((sub) => sub.toString())]);
}
