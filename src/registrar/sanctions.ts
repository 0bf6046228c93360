/**
 * Sanctions screening: legal names (and display names, as a setting) compared with the kept lists.
 * A hit never judges and never gives Erroneous: it goes into the operator's review queue (the hits
 * kept in the store, with the entry matched) and the field stays with the operator's review. A
 * request is screened when its legal name is planned for review; a new list screens every open
 * request and every legal name this registrar judged again. Names are never logged, only accounts.
 */
import type { ChainIdentity } from '../chain/identity.js';
import type { Skeletons } from '../domain/look-alikes.js';
import { NameMatcher } from '../domain/name-match.js';
import type { JudgementRequest } from '../domain/request.js';
import {
  hitId,
  type SanctionsFormat,
  type SanctionsHit,
  type SanctionsList,
  type SanctionsListInfo,
  type ScreenedField,
} from '../domain/sanctions.js';
import { parseSanctionsList } from '../domain/sanctions-file.js';
import type { Store } from '../store/store.js';
import { errorText } from '../support/errors.js';
import type { Logger } from '../support/log.js';
import type { RegistrarMetrics } from './metrics.js';

const JUDGED_GOOD = new Set(['Reasonable', 'KnownGood']);

export interface ScreeningOptions {
  store: Store;
  /** Reads an identity on chain as it is now (the judged names screened again). */
  identity: (account: string) => Promise<ChainIdentity | undefined>;
  registrarIndex: number;
  skeletons: Skeletons;
  /** Whether display names are screened as well as legal names. */
  display: boolean;
  log: Logger;
  now: () => number;
  metrics: RegistrarMetrics;
}

/** What an import did: the list kept, and what screening it again found. */
export interface ImportOutcome {
  list: SanctionsListInfo;
  /** Names screened against it: open requests' and judged identities'. */
  screened: number;
  /** Hits that were new. */
  hits: number;
  /** Why screening again stopped, when it did (the list is kept all the same). */
  screeningFailed?: string;
}

/** A hit as the review queue shows it: with the operator's review since, once there is one. */
export type QueuedHit = SanctionsHit & {
  reviewed?: { decision: 'confirm' | 'reject'; reviewer: string; at: number };
};

interface Loaded {
  /** The lists it was built from, by format and import time: a change anywhere rebuilds it. */
  stamp: string;
  matchers: { list: SanctionsList; matcher: NameMatcher }[];
}

const stampOf = (lists: readonly Pick<SanctionsList, 'format' | 'importedAt' | 'listDate'>[]) =>
  lists.map((l) => `${l.format}@${l.importedAt}@${l.listDate}`).join(',');

export class Screening {
  private loaded: Loaded | undefined;

  constructor(private readonly o: ScreeningOptions) {}

  /**
   * The matchers of the kept lists, rebuilt when the store holds another list than they were built
   * from (another instance imported one): one small read per screening.
   */
  private async matchers(): Promise<Loaded['matchers']> {
    const stamp = stampOf(await this.o.store.sanctionsListInfo());
    if (this.loaded?.stamp !== stamp) {
      const lists = await this.o.store.sanctionsLists();
      this.loaded = {
        stamp: stampOf(lists),
        matchers: lists.map((list) => ({ list, matcher: new NameMatcher(this.o.skeletons, list.entries) })),
      };
    }
    return this.loaded.matchers;
  }

  /** The fields of a request screening looks at, with their values. */
  private fieldsOf(request: JudgementRequest): [ScreenedField, string][] {
    const out: [ScreenedField, string][] = [];
    const legal = request.fields.legal;
    // The legal name is screened when the operator is to review it: that is where a hit is shown.
    if (legal?.status === 'awaiting') out.push(['legal', legal.value]);
    const display = request.fields.display;
    if (this.o.display && display && display.status !== 'missing' && display.value) {
      out.push(['display', display.value]);
    }
    return out;
  }

  /** The hits of `name` against every kept list. */
  private async find(
    account: string,
    field: ScreenedField,
    name: string,
    identityHash: string,
    reason: SanctionsHit['reason'],
  ): Promise<SanctionsHit[]> {
    const hits: SanctionsHit[] = [];
    for (const { list, matcher } of await this.matchers()) {
      for (const match of matcher.matches(name)) {
        const key = {
          account,
          registrarIndex: this.o.registrarIndex,
          field,
          identityHash,
          list: { format: list.format, source: list.source, listDate: list.listDate },
          uid: match.uid,
        };
        hits.push({ ...key, id: hitId(key), name: match.name, score: match.score, reason, at: this.o.now() });
      }
    }
    return hits;
  }

  /** Records hits, logs and counts the new ones (by account and field, never the name). */
  private async record(hits: SanctionsHit[]): Promise<SanctionsHit[]> {
    const added = await this.o.store.recordSanctionsHits(hits);
    for (const hit of added) {
      this.o.log.warn(
        { account: hit.account, field: hit.field, list: hit.list.format, entry: hit.uid, why: hit.reason },
        'sanctions screening: a name is like a listed one; it awaits the operator',
      );
      this.o.metrics.sanctionsHit(hit.field);
    }
    return added;
  }

  /** Screens a request's legal name awaiting review (and display name, as set). Returns the new hits. */
  async screenRequest(request: JudgementRequest): Promise<SanctionsHit[]> {
    const fields = this.fieldsOf(request);
    if (fields.length === 0) return [];
    const hits: SanctionsHit[] = [];
    for (const [field, value] of fields) {
      hits.push(...(await this.find(request.account, field, value, request.snapshot.hash, 'request')));
    }
    return this.record(hits);
  }

  /**
   * Whether the display name `name` of `account` must wait for the operator: it is like a listed
   * name. Read when a request is planned (verification.ts holds the field for review).
   */
  async displayHeld(): Promise<((name: string) => boolean) | undefined> {
    if (!this.o.display) return undefined;
    const matchers = await this.matchers();
    if (matchers.length === 0) return undefined;
    return (name) => matchers.some(({ matcher }) => matcher.matches(name).length > 0);
  }

  /**
   * Reads an official file (format as given, or found by its root element) and keeps it in place
   * of the list of its format; a file that does not read throws SanctionsListError and the kept
   * list stays. Then screens again every open request and every legal name this registrar judged.
   */
  async importList(xml: string, source: string, format?: SanctionsFormat): Promise<ImportOutcome> {
    const parsed = parseSanctionsList(xml, format);
    const list: SanctionsList = { ...parsed, source, importedAt: this.o.now() };
    await this.o.store.replaceSanctionsList(list);
    this.o.log.info(
      { list: list.format, listDate: list.listDate, entries: list.entries.length },
      'sanctions list imported',
    );
    const { entries, ...info } = list;
    const kept = { ...info, entryCount: entries.length };
    try {
      return { list: kept, ...(await this.screenAgain()) };
    } catch (error) {
      // The list is kept; what failed (the chain, the store) is said, and the next import or
      // fetch screens again.
      this.o.log.error({ err: errorText(error) }, 'screening against the new sanctions list failed');
      return { list: kept, screened: 0, hits: 0, screeningFailed: errorText(error) };
    }
  }

  /** Every open request's names, and every legal name judged good by this registrar, screened now. */
  async screenAgain(): Promise<{ screened: number; hits: number }> {
    let screened = 0;
    let hits = 0;
    for (const request of await this.o.store.listOpenRequests(this.o.registrarIndex)) {
      screened += this.fieldsOf(request).length;
      hits += (await this.screenRequest(request)).length;
    }
    // The accounts this registrar judged good, as the audit log knows them; the chain says whether
    // the judgement still stands and what the legal name is now.
    const judged = new Set(
      (await this.o.store.listJudgements())
        .filter((j) => j.registrarIndex === this.o.registrarIndex && JUDGED_GOOD.has(j.judgement))
        .map((j) => j.account),
    );
    for (const account of judged) {
      const identity = await this.o.identity(account);
      const stands = identity?.judgements.some(
        (slot) => slot.registrarIndex === this.o.registrarIndex && JUDGED_GOOD.has(slot.judgement),
      );
      const legal = identity?.info.values.legal;
      if (!identity || !stands || legal?.kind !== 'raw' || legal.text === undefined) continue;
      screened += 1;
      const found = await this.find(account, 'legal', legal.text, identity.snapshot.hash, 'import');
      hits += (await this.record(found)).length;
    }
    this.o.log.info({ screened, hits }, 'names screened against the new sanctions list');
    return { screened, hits };
  }

  /**
   * The kept lists (without entries) and the review queue's hits (of `account`), each with the
   * operator's review of its field and identity made since, if there is one.
   */
  async status(account?: string): Promise<{ lists: SanctionsListInfo[]; hits: QueuedHit[] }> {
    const hits = await this.o.store.listSanctionsHits(account);
    const reviews = hits.length === 0 ? [] : await this.o.store.listReviews(account);
    return {
      lists: await this.o.store.sanctionsListInfo(),
      hits: hits.map((hit) => {
        const review = reviews.find(
          (r) =>
            r.account === hit.account &&
            r.field === hit.field &&
            r.identityHash === hit.identityHash &&
            r.at >= hit.at,
        );
        return review
          ? { ...hit, reviewed: { decision: review.decision, reviewer: review.reviewer, at: review.at } }
          : hit;
      }),
    };
  }
}
