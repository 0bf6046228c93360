/**
 * The MongoDB store, for operators who already run MongoDB. Same contract as the SQLite store;
 * uniqueness and single use are enforced by indexes and conditional updates, not by reads.
 */
import { type Collection, type Db, MongoBulkWriteError, MongoClient, MongoServerError } from 'mongodb';
import type { Field } from '../domain/fields.js';
import {
  type Challenge,
  isOpenStatus,
  type JudgementRecord,
  type JudgementRequest,
  type ReviewRecord,
  type Snapshot,
} from '../domain/request.js';
import type { SanctionsEntry, SanctionsHit, SanctionsList, SanctionsListInfo } from '../domain/sanctions.js';
import type { JudgedProof } from '../domain/sweep.js';
import { isReadyForJudgement } from '../domain/verification.js';
import {
  type ConsumeOutcome,
  type DeliveryOutcome,
  type DeliveryTarget,
  DuplicateError,
  type HandleClaim,
  refusal,
  type Store,
} from './store.js';

type RequestDoc = {
  _id: string;
  open: boolean;
  /** isReadyForJudgement of the doc; absent on docs written before it was kept (they may be). */
  ready?: boolean;
  doc: JudgementRequest;
  account: string;
  registrarIndex: number;
};
type ChallengeDoc = Omit<Challenge, 'id'> & { _id: string };
type JudgementDoc = JudgementRecord;
type CheckpointDoc = { _id: string; value: string; expiresAt?: number };
type DeliveryDoc = { target: string; account: string; at: number };
type LeaseDoc = { _id: string; owner: string; until: number };
type HandleDoc = Omit<HandleClaim, 'field'> & { field: string };
type FinalizedDoc = { _id: string; number: number };
/**
 * A kept sanctions list, by format: info and entries in one document, so a new list replaces the
 * old in one write (the OFAC and EU lists are a few MB as entries, under the 16 MB a document holds).
 */
type SanctionsListDoc = { _id: string; info: SanctionsListInfo; entries: SanctionsEntry[] };
/** `_id`: account, registrar and field; `inGrace` beside the record for the count. */
type JudgedProofDoc = {
  _id: string;
  registrarIndex: number;
  nextCheckAt: number;
  inGrace: boolean;
  doc: JudgedProof;
};

export class MongoStore implements Store {
  private constructor(
    private readonly client: MongoClient,
    private readonly requests: Collection<RequestDoc>,
    private readonly challenges: Collection<ChallengeDoc>,
    private readonly judgements: Collection<JudgementDoc>,
    private readonly checkpoints: Collection<CheckpointDoc>,
    private readonly deliveries: Collection<DeliveryDoc>,
    private readonly leases: Collection<LeaseDoc>,
    private readonly reviews: Collection<ReviewRecord>,
    private readonly handles: Collection<HandleDoc>,
    private readonly finalized: Collection<FinalizedDoc>,
    private readonly sanctionsListDocs: Collection<SanctionsListDoc>,
    private readonly sanctionsHits: Collection<SanctionsHit>,
    private readonly judgedProofs: Collection<JudgedProofDoc>,
  ) {}

  /** Connects and makes sure the indexes exist. The database is the one named in the URI. */
  static async connect(uri: string, databaseName?: string): Promise<MongoStore> {
    // ignoreUndefined: an absent usedAt/voidedAt must stay absent (the single-use filters test $exists).
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, ignoreUndefined: true });
    await client.connect();
    const db: Db = client.db(databaseName);
    const store = new MongoStore(
      client,
      db.collection<RequestDoc>('requests'),
      db.collection<ChallengeDoc>('challenges'),
      db.collection<JudgementDoc>('judgements'),
      db.collection<CheckpointDoc>('checkpoints'),
      db.collection<DeliveryDoc>('deliveries'),
      db.collection<LeaseDoc>('leases'),
      db.collection<ReviewRecord>('reviews'),
      db.collection<HandleDoc>('handles'),
      db.collection<FinalizedDoc>('finalized'),
      db.collection<SanctionsListDoc>('sanctionsLists'),
      db.collection<SanctionsHit>('sanctionsHits'),
      db.collection<JudgedProofDoc>('judged_proofs'),
    );
    await store.ensureIndexes();
    return store;
  }

  private async ensureIndexes(): Promise<void> {
    await this.requests.createIndexes([
      {
        key: { account: 1, registrarIndex: 1 },
        name: 'one_open_request',
        unique: true,
        partialFilterExpression: { open: true },
      },
      { key: { account: 1, registrarIndex: 1, 'doc.createdAt': -1 }, name: 'by_account' },
      { key: { registrarIndex: 1, open: 1 }, name: 'open_requests' },
      // No partial index: a partial filter cannot say `$ne`, and a doc without `ready` may be ready.
      { key: { registrarIndex: 1, open: 1, ready: 1 }, name: 'ready_requests' },
    ]);
    await this.challenges.createIndexes([
      { key: { requestId: 1 }, name: 'by_request' },
      { key: { expiresAt: 1 }, name: 'by_expiry' },
      { key: { field: 1, subject: 1 }, name: 'by_subject' },
      {
        key: { nextDeliveryAt: 1 },
        name: 'outbox',
        partialFilterExpression: { nextDeliveryAt: { $exists: true } },
      },
    ]);
    await this.deliveries.createIndexes([
      { key: { target: 1, at: 1 }, name: 'by_target' },
      { key: { account: 1, at: 1 }, name: 'by_account' },
    ]);
    // Checkpoints that expire (a bot's processed events, its replies) are found by their time.
    await this.checkpoints.createIndexes([
      { key: { expiresAt: 1 }, name: 'by_expiry', partialFilterExpression: { expiresAt: { $exists: true } } },
    ]);
    // The Matrix bot's event IDs kept before checkpoints expired (their value is when they were
    // handled) expire as the bot's own do now, three days after.
    await this.checkpoints.updateMany({ _id: /^matrix:event:/, expiresAt: { $exists: false } }, [
      {
        $set: {
          expiresAt: {
            $add: [{ $convert: { input: '$value', to: 'long', onError: 0, onNull: 0 } }, 3 * 86_400_000],
          },
        },
      },
    ]);
    await this.judgements.createIndexes([{ key: { account: 1, _id: 1 }, name: 'by_account' }]);
    await this.reviews.createIndexes([{ key: { account: 1, _id: 1 }, name: 'by_account' }]);
    await this.sanctionsHits.createIndexes([
      { key: { id: 1 }, name: 'one_hit', unique: true },
      { key: { account: 1, _id: 1 }, name: 'by_account' },
    ]);
    await this.handles.createIndexes([
      { key: { key: 1, requestId: 1 }, name: 'one_claim', unique: true },
      { key: { requestId: 1 }, name: 'by_request' },
    ]);
    await this.judgedProofs.createIndexes([
      { key: { registrarIndex: 1, nextCheckAt: 1 }, name: 'due' },
      { key: { 'doc.account': 1, registrarIndex: 1 }, name: 'by_account' },
    ]);
  }

  async insertRequest(request: JudgementRequest): Promise<void> {
    try {
      await this.requests.insertOne(toRequestDoc(request));
    } catch (error) {
      throw translate(error, `request for ${request.account}`);
    }
  }

  async getRequest(id: string): Promise<JudgementRequest | undefined> {
    return (await this.requests.findOne({ _id: id }))?.doc;
  }

  async findOpenRequest(account: string, registrarIndex: number): Promise<JudgementRequest | undefined> {
    return (await this.requests.findOne({ account, registrarIndex, open: true }))?.doc;
  }

  async latestRequest(account: string, registrarIndex: number): Promise<JudgementRequest | undefined> {
    const [found] = await this.requests
      .find({ account, registrarIndex })
      .sort({ open: -1, 'doc.createdAt': -1 })
      .limit(1)
      .toArray();
    return found?.doc;
  }

  async listOpenRequests(registrarIndex: number): Promise<JudgementRequest[]> {
    const docs = await this.requests
      .find({ registrarIndex, open: true })
      .sort({ 'doc.createdAt': 1 })
      .toArray();
    return docs.map((d) => d.doc);
  }

  async countOpenRequests(registrarIndex: number): Promise<Record<string, number>> {
    const groups = await this.requests
      .aggregate<{ _id: string; n: number }>([
        { $match: { registrarIndex, open: true } },
        { $group: { _id: '$doc.status', n: { $sum: 1 } } },
      ])
      .toArray();
    return Object.fromEntries(groups.map((group) => [group._id, group.n]));
  }

  async listOpenSnapshots(registrarIndex: number): Promise<Map<string, Snapshot>> {
    const docs = await this.requests
      .find({ registrarIndex, open: true }, { projection: { account: 1, 'doc.snapshot': 1 } })
      .sort({ 'doc.createdAt': 1 })
      .toArray();
    return new Map(docs.map((d) => [d.account, d.doc.snapshot]));
  }

  async listReadyRequests(registrarIndex: number): Promise<JudgementRequest[]> {
    const docs = await this.requests
      .find({ registrarIndex, open: true, ready: { $ne: false } })
      .sort({ 'doc.createdAt': 1 })
      .toArray();
    return docs.map((d) => d.doc);
  }

  async updateRequest(request: JudgementRequest): Promise<JudgementRequest | undefined> {
    const next = { ...request, version: request.version + 1 };
    try {
      const result = await this.requests.replaceOne(
        { _id: request.id, 'doc.version': request.version },
        toRequestDoc(next),
      );
      return result.matchedCount === 1 ? next : undefined;
    } catch (error) {
      throw translate(error, `request for ${request.account}`);
    }
  }

  async deletePreparedRequest(id: string, version: number): Promise<boolean> {
    // The conditional delete decides; its challenges go after it (a crash in between leaves
    // challenges of no request, which expire and are deleted like any other).
    const result = await this.requests.deleteOne({
      _id: id,
      'doc.version': version,
      'doc.status': 'prepared',
    });
    if (result.deletedCount !== 1) return false;
    await this.challenges.deleteMany({ requestId: id });
    return true;
  }

  async insertChallenge(challenge: Challenge): Promise<void> {
    const { id, ...rest } = challenge;
    try {
      await this.challenges.insertOne({ _id: id, ...rest });
    } catch (error) {
      throw translate(error, 'challenge id');
    }
  }

  async getChallenge(id: string): Promise<Challenge | undefined> {
    const doc = await this.challenges.findOne({ _id: id });
    return doc ? fromChallengeDoc(doc) : undefined;
  }

  async listChallenges(requestId: string): Promise<Challenge[]> {
    const docs = await this.challenges.find({ requestId }).sort({ createdAt: 1, _id: 1 }).toArray();
    return docs.map(fromChallengeDoc);
  }

  async findLiveChallenges(field: Field, subject: string, now: number): Promise<Challenge[]> {
    const docs = await this.challenges
      .find({
        field,
        subject,
        usedAt: { $exists: false },
        voidedAt: { $exists: false },
        expiresAt: { $gt: now },
      })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    return docs.map(fromChallengeDoc);
  }

  async consumeChallenge(id: string, now: number): Promise<ConsumeOutcome> {
    const doc = await this.challenges.findOneAndUpdate(
      { _id: id, usedAt: { $exists: false }, voidedAt: { $exists: false }, expiresAt: { $gt: now } },
      { $set: { usedAt: now } },
      { returnDocument: 'after' },
    );
    if (doc) return { ok: true, challenge: fromChallengeDoc(doc) };
    return refusal(await this.getChallenge(id), now);
  }

  async voidChallenges(requestId: string, now: number, fields?: readonly Field[]): Promise<number> {
    if (fields?.length === 0) return 0;
    const result = await this.challenges.updateMany(
      {
        requestId,
        usedAt: { $exists: false },
        voidedAt: { $exists: false },
        ...(fields ? { field: { $in: [...fields] } } : {}),
      },
      { $set: { voidedAt: now } },
    );
    return result.modifiedCount;
  }

  async deleteExpiredChallenges(before: number): Promise<number> {
    await this.deliveries.deleteMany({ at: { $lt: before } });
    return (await this.challenges.deleteMany({ expiresAt: { $lt: before } })).deletedCount;
  }

  async dueDeliveries(
    now: number,
    limit: number,
    all = false,
    fields?: readonly Field[],
  ): Promise<Challenge[]> {
    const docs = await this.challenges
      .find({
        ...(fields === undefined ? {} : { field: { $in: [...fields] } }),
        deliveredAt: { $exists: false },
        nextDeliveryAt: all ? { $exists: true } : { $lte: now },
        usedAt: { $exists: false },
        voidedAt: { $exists: false },
        expiresAt: { $gt: now },
      })
      .sort({ nextDeliveryAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map(fromChallengeDoc);
  }

  async recordDelivery(id: string, outcome: DeliveryOutcome): Promise<void> {
    if ('deliveredAt' in outcome) {
      const doc = await this.challenges.findOneAndUpdate(
        { _id: id, deliveredAt: { $exists: false } },
        {
          $set: {
            deliveredAt: outcome.deliveredAt,
            expiresAt: outcome.expiresAt,
            ...(outcome.deliveredTo === undefined ? {} : { deliveredTo: outcome.deliveredTo }),
          },
          $unset: { nextDeliveryAt: '' },
        },
      );
      if (doc) {
        await this.deliveries.insertMany([
          { target: outcome.target, account: doc.account, at: outcome.deliveredAt },
          // Counted against the key alone: an empty account is no account's.
          ...(outcome.also ?? []).map((key) => ({ target: key, account: '', at: outcome.deliveredAt })),
        ]);
      }
      return;
    }
    await this.challenges.updateOne(
      { _id: id, deliveredAt: { $exists: false } },
      {
        $set: {
          nextDeliveryAt: outcome.retryAt,
          deliveryAttempts: outcome.attempts,
          expiresAt: outcome.expiresAt,
          ...(outcome.problem === undefined ? {} : { deliveryProblem: outcome.problem }),
          ...(outcome.uncertain ? { deliveryUncertain: true as const } : {}),
        },
        ...(outcome.problem === undefined ? { $unset: { deliveryProblem: '' } } : {}),
      },
    );
  }

  async deliveryTimes(to: DeliveryTarget, since: number): Promise<number[]> {
    const docs = await this.deliveries
      .find({ ...to, at: { $gte: since } }, { projection: { at: 1 } })
      .sort({ at: 1 })
      .toArray();
    return docs.map((d) => d.at);
  }

  async recordWrongCode(ids: readonly string[]): Promise<number> {
    let highest = 0;
    for (const id of ids) {
      const doc = await this.challenges.findOneAndUpdate(
        { _id: id },
        { $inc: { wrongCodes: 1 } },
        { returnDocument: 'after' },
      );
      highest = Math.max(highest, doc?.wrongCodes ?? 0);
    }
    return highest;
  }

  async listClosedRequests(before: number, limit: number): Promise<JudgementRequest[]> {
    const docs = await this.requests
      .find({ open: false, 'doc.forgottenAt': { $exists: false }, 'doc.updatedAt': { $lt: before } })
      .sort({ 'doc.createdAt': 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => d.doc);
  }

  async deleteChallenges(requestId: string): Promise<number> {
    return (await this.challenges.deleteMany({ requestId })).deletedCount;
  }

  async claimLease(name: string, owner: string, until: number, now: number): Promise<boolean> {
    try {
      const result = await this.leases.updateOne(
        { _id: name, $or: [{ owner }, { until: { $lte: now } }] },
        { $set: { owner, until } },
        { upsert: true },
      );
      return result.matchedCount + result.upsertedCount === 1;
    } catch (error) {
      // The upsert collided with a lease someone else holds.
      if (error instanceof MongoServerError && error.code === 11000) return false;
      throw error;
    }
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.leases.deleteOne({ _id: name, owner });
  }

  async appendJudgement(record: JudgementRecord): Promise<void> {
    // ObjectIds made by one client increase, so sorting by _id keeps the log in write order.
    await this.judgements.insertOne({ ...record });
  }

  async listJudgements(account?: string): Promise<JudgementRecord[]> {
    return listLog(this.judgements, account);
  }

  async judgementsSince(registrarIndex: number, since: number): Promise<JudgementRecord[]> {
    const docs = await this.judgements
      .find({ registrarIndex, at: { $gte: since } }, { projection: { _id: 0 } })
      .sort({ _id: 1 })
      .toArray();
    return docs as unknown as JudgementRecord[];
  }

  async countRequestsSince(registrarIndex: number, since: number): Promise<number> {
    return this.requests.countDocuments({
      registrarIndex,
      'doc.createdAt': { $gte: since },
      'doc.status': { $ne: 'prepared' },
    });
  }

  async appendReview(record: ReviewRecord): Promise<void> {
    await this.reviews.insertOne({ ...record });
  }

  async listReviews(account?: string): Promise<ReviewRecord[]> {
    return listLog(this.reviews, account);
  }

  async replaceSanctionsList(list: SanctionsList): Promise<void> {
    const { entries, ...rest } = list;
    await this.sanctionsListDocs.replaceOne(
      { _id: list.format },
      { info: { ...rest, entryCount: entries.length }, entries },
      { upsert: true },
    );
  }

  async sanctionsLists(): Promise<SanctionsList[]> {
    const docs = await this.sanctionsListDocs.find({}).sort({ _id: 1 }).toArray();
    return docs.map(({ info: { entryCount: _, ...info }, entries }) => ({ ...info, entries }));
  }

  async sanctionsListInfo(): Promise<SanctionsListInfo[]> {
    const docs = await this.sanctionsListDocs
      .find({}, { projection: { entries: 0 } })
      .sort({ _id: 1 })
      .toArray();
    return docs.map((doc) => doc.info);
  }

  async recordSanctionsHits(hits: readonly SanctionsHit[]): Promise<SanctionsHit[]> {
    if (hits.length === 0) return [];
    // An upsert per hit: the ones inserted (not met already) are the new ones, by their index.
    const result = await this.sanctionsHits
      .bulkWrite(
        hits.map((hit) => ({
          updateOne: { filter: { id: hit.id }, update: { $setOnInsert: { ...hit } }, upsert: true },
        })),
        { ordered: false },
      )
      .catch((error: unknown) => {
        // Two writers of one hit at once: the other inserted it, and it is not new here; the
        // result still says which of the others were inserted.
        if (error instanceof MongoBulkWriteError && error.code === 11000) return error.result;
        throw error;
      });
    return Object.keys(result.upsertedIds)
      .map(Number)
      .sort((a, b) => a - b)
      .map((index) => hits[index] as SanctionsHit);
  }

  async listSanctionsHits(account?: string): Promise<SanctionsHit[]> {
    return listLog(this.sanctionsHits, account);
  }

  async claimHandles(claims: readonly HandleClaim[]): Promise<void> {
    if (claims.length === 0) return;
    // Two upserts of one claim at once: one inserts, the other meets the unique index; both mean "held".
    await this.handles
      .bulkWrite(
        claims.map((c) => ({
          updateOne: {
            filter: { key: c.key, requestId: c.requestId },
            update: { $setOnInsert: { account: c.account, field: c.field, at: c.at } },
            upsert: true,
          },
        })),
        { ordered: false },
      )
      .catch((error: unknown) => {
        if (!(error instanceof MongoServerError && error.code === 11000)) throw error;
      });
  }

  async handleHolders(keys: readonly string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const accounts = await this.handles.distinct('account', { key: { $in: [...keys] } });
    return accounts.map(String).sort();
  }

  async releaseHandles(requestId: string, fields?: readonly Field[]): Promise<number> {
    if (fields?.length === 0) return 0;
    const filter = fields === undefined ? { requestId } : { requestId, field: { $in: [...fields] } };
    return (await this.handles.deleteMany(filter)).deletedCount;
  }

  async raiseFinalized(chain: string, number: number): Promise<number> {
    // $max: of two writers at once the higher number stays, whatever their order.
    const raise = () =>
      this.finalized.findOneAndUpdate(
        { _id: chain },
        { $max: { number } },
        { upsert: true, returnDocument: 'after' },
      );
    // Two first upserts at once: one inserts, the other fails on the key and raises what is there.
    const doc = await raise().catch((error: unknown) => {
      if (error instanceof MongoServerError && error.code === 11000) return raise();
      throw error;
    });
    return doc?.number ?? number;
  }

  async highestFinalized(chain: string): Promise<number | undefined> {
    return (await this.finalized.findOne({ _id: chain }))?.number;
  }

  async saveJudgedProof(proof: JudgedProof): Promise<void> {
    const doc = {
      registrarIndex: proof.registrarIndex,
      nextCheckAt: proof.nextCheckAt,
      inGrace: proof.grace !== undefined,
      doc: proof,
    };
    await this.judgedProofs.replaceOne({ _id: judgedProofId(proof) }, doc, { upsert: true });
  }

  async dueJudgedProofs(registrarIndex: number, now: number, limit: number): Promise<JudgedProof[]> {
    const docs = await this.judgedProofs
      .find({ registrarIndex, nextCheckAt: { $lte: now } })
      .sort({ nextCheckAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
    return docs.map((d) => d.doc);
  }

  async listJudgedProofs(account: string, registrarIndex: number): Promise<JudgedProof[]> {
    const docs = await this.judgedProofs
      .find({ 'doc.account': account, registrarIndex })
      .sort({ 'doc.field': 1 })
      .toArray();
    return docs.map((d) => d.doc);
  }

  async deleteJudgedProofs(account: string, registrarIndex: number): Promise<number> {
    return (await this.judgedProofs.deleteMany({ 'doc.account': account, registrarIndex })).deletedCount;
  }

  async countJudgedProofs(registrarIndex: number): Promise<{ proofs: number; inGrace: number }> {
    const [proofs, inGrace] = await Promise.all([
      this.judgedProofs.countDocuments({ registrarIndex }),
      this.judgedProofs.countDocuments({ registrarIndex, inGrace: true }),
    ]);
    return { proofs, inGrace };
  }

  async getCheckpoint(key: string): Promise<string | undefined> {
    return (await this.checkpoints.findOne({ _id: key }))?.value;
  }

  async setCheckpoint(key: string, value: string, expiresAt?: number): Promise<void> {
    await this.checkpoints.updateOne(
      { _id: key },
      expiresAt === undefined
        ? { $set: { value }, $unset: { expiresAt: '' } }
        : { $set: { value, expiresAt } },
      { upsert: true },
    );
  }

  async deleteCheckpoint(key: string): Promise<void> {
    await this.checkpoints.deleteOne({ _id: key });
  }

  async deleteExpiredCheckpoints(now: number): Promise<number> {
    return (await this.checkpoints.deleteMany({ expiresAt: { $lte: now } })).deletedCount;
  }

  async recordMessage(target: string, account: string, at: number): Promise<void> {
    await this.deliveries.insertOne({ target, account, at });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function toRequestDoc(request: JudgementRequest): RequestDoc {
  return {
    _id: request.id,
    open: isOpenStatus(request.status),
    ready: isReadyForJudgement(request),
    account: request.account,
    registrarIndex: request.registrarIndex,
    doc: request,
  };
}

function fromChallengeDoc({ _id, ...rest }: ChallengeDoc): Challenge {
  return { id: _id, ...rest };
}

function translate(error: unknown, what: string): unknown {
  if (error instanceof MongoServerError && error.code === 11000) return new DuplicateError(what);
  return error;
}

/** An audit log in write order, for one account or all. */
async function listLog<T extends { account: string }>(log: Collection<T>, account?: string): Promise<T[]> {
  const filter = account === undefined ? {} : { account };
  const docs = await log
    .find(filter as never, { projection: { _id: 0 } })
    .sort({ _id: 1 })
    .toArray();
  return docs as unknown as T[];
}

/** One judged proof per account, registrar and field. */
function judgedProofId(proof: Pick<JudgedProof, 'account' | 'registrarIndex' | 'field'>): string {
  return `${proof.account}:${proof.registrarIndex}:${proof.field}`;
}
