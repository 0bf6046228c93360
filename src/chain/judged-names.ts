/**
 * The corpus of the display-name guard: the display names of every identity that holds Reasonable
 * or KnownGood from any registrar. Read from chain storage page by page at a pinned block at
 * start-up, then kept current from identity events; only the name is kept of each registration.
 */
import type { ApiPromise } from '@polkadot/api';
import type { Codec } from '@polkadot/types/types';
import { textOf } from '../domain/identity.js';
import type { LookAlikeIndex } from '../domain/look-alikes.js';
import type { Logger } from '../log.js';
import { registrationOf } from './identity.js';

const PAGE = 500;
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

export class JudgedNames {
  constructor(
    private readonly api: ApiPromise,
    readonly index: LookAlikeIndex,
    private readonly log: Logger,
  ) {}

  /** Reads every judged display name at the finalized head, one page at a time. */
  async load(): Promise<void> {
    const started = Date.now();
    const at = await this.api.at(await this.api.rpc.chain.getFinalizedHead());
    let startKey: string | undefined;
    for (;;) {
      const page = await at.query.identity.identityOf.entriesPaged({ args: [], pageSize: PAGE, startKey });
      for (const [key, value] of page) {
        const name = judgedDisplayName(value);
        if (name !== undefined) this.index.set((key.args[0] as Codec).toString(), name);
      }
      if (page.length < PAGE) break;
      startKey = page[page.length - 1]?.[0].toHex();
    }
    this.log.info({ names: this.index.size, ms: Date.now() - started }, 'judged display names loaded');
  }

  /** An identity event named `account`: read its registration again. */
  async refresh(account: string): Promise<void> {
    const name = judgedDisplayName(await this.api.query.identity.identityOf(account));
    if (name === undefined) this.index.delete(account);
    else this.index.set(account, name);
  }

  /** The account and its sub-identities, which a name may resemble without impersonating anyone. */
  async family(account: string): Promise<Set<string>> {
    const subs = (await this.api.query.identity.subsOf(account)) as unknown as [Codec, Iterable<Codec>];
    return new Set([account, ...[...subs[1]].map((sub) => sub.toString())]);
  }
}
