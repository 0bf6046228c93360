/**
 * The embedded store: node:sqlite in WAL mode. Each row keeps the record as JSON beside the columns
 * that queries and constraints need. Several connections may share one file (two daemons by
 * mistake, or a CLI beside the daemon): every change is one statement or one IMMEDIATE transaction.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Field } from '../domain/fields.js';
import {
  type Challenge,
  isOpenStatus,
  type JudgementRecord,
  type JudgementRequest,
  type ReviewRecord,
  type Snapshot,
} from '../domain/request.js';
import type { SanctionsHit, SanctionsList, SanctionsListInfo } from '../domain/sanctions.js';
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

const SCHEMA_VERSION = 9;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS requests (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  registrar_index INTEGER NOT NULL,
  is_open INTEGER NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  doc TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS requests_one_open
  ON requests (account, registrar_index) WHERE is_open = 1;
CREATE INDEX IF NOT EXISTS requests_by_account ON requests (account, registrar_index, created_at);
CREATE INDEX IF NOT EXISTS requests_open ON requests (registrar_index, is_open);

CREATE TABLE IF NOT EXISTS challenges (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL,
  field TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  voided_at INTEGER,
  doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS challenges_by_request ON challenges (request_id);
CREATE INDEX IF NOT EXISTS challenges_by_expiry ON challenges (expires_at);

CREATE TABLE IF NOT EXISTS judgements (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,
  doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS judgements_by_account ON judgements (account);

CREATE TABLE IF NOT EXISTS checkpoints (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`;

/**
 * Schema 2: the outbox (delivery columns on challenges, pre-existing ones count as delivered),
 * the columns the message limits count by, and the lease.
 */
const SCHEMA_2 = `
ALTER TABLE challenges ADD COLUMN delivered_at INTEGER;
ALTER TABLE challenges ADD COLUMN next_delivery_at INTEGER;
UPDATE challenges SET delivered_at = json_extract(doc, '$.createdAt'),
  doc = json_set(doc, '$.deliveredAt', json_extract(doc, '$.createdAt'));
CREATE INDEX IF NOT EXISTS challenges_outbox ON challenges (next_delivery_at) WHERE delivered_at IS NULL;
CREATE TABLE IF NOT EXISTS deliveries (
  target TEXT NOT NULL,
  account TEXT NOT NULL,
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS deliveries_to_target ON deliveries (target, at);
CREATE INDEX IF NOT EXISTS deliveries_to_account ON deliveries (account, at);
CREATE TABLE IF NOT EXISTS leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  until INTEGER NOT NULL
) STRICT;
`;

/** Schema 3: the operators' reviews, in the audit log beside the judgements. */
const SCHEMA_3 = `
CREATE TABLE IF NOT EXISTS reviews (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,
  doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS reviews_by_account ON reviews (account);
`;

/**
 * Schema 4: whether a request is ready for judgement, kept with each write, so the leader's poll
 * for requests another instance made ready reads those alone. NULL (written before): may be.
 */
const SCHEMA_4 = `
ALTER TABLE requests ADD COLUMN ready INTEGER;
CREATE INDEX IF NOT EXISTS requests_maybe_ready ON requests (registrar_index)
  WHERE is_open = 1 AND ready IS NOT 0;
`;

/**
 * Schema 5: checkpoints may expire (a bot's processed event IDs and replies are kept for days, not
 * for ever). NULL: kept until deleted. The Matrix bot's event IDs kept before (their value is when
 * they were handled) expire as the bot's own do now, three days after.
 */
const SCHEMA_5 = `
ALTER TABLE checkpoints ADD COLUMN expires_at INTEGER;
CREATE INDEX IF NOT EXISTS checkpoints_by_expiry ON checkpoints (expires_at) WHERE expires_at IS NOT NULL;
UPDATE checkpoints SET expires_at = CAST(value AS INTEGER) + ${3 * 86_400_000}
  WHERE key LIKE 'matrix:event:%' AND CAST(value AS INTEGER) > 0;
`;

/**
 * Schema 6: one account per handle. A row per handle key and request that proved it; the key is an
 * HMAC of the canonical handle, so the handle itself is not stored a second time.
 */
const SCHEMA_6 = `
CREATE TABLE IF NOT EXISTS handles (
  key TEXT NOT NULL,
  request_id TEXT NOT NULL,
  account TEXT NOT NULL,
  field TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (key, request_id)
) STRICT;
CREATE INDEX IF NOT EXISTS handles_by_request ON handles (request_id);
`;

/**
 * Schema 7: the highest finalized block seen, by chain (genesis hash), so that after a restart an
 * endpoint behind it is not believed (chain/connection.ts).
 */
const SCHEMA_7 = `
CREATE TABLE IF NOT EXISTS finalized (
  chain TEXT PRIMARY KEY,
  number INTEGER NOT NULL
) STRICT;
`;

/**
 * Schema 8: the judged proofs the sweep checks again (domain/sweep.ts), one per account, registrar
 * and field, found by when they are due.
 */
const SCHEMA_8 = `
CREATE TABLE IF NOT EXISTS judged_proofs (
  account TEXT NOT NULL,
  registrar_index INTEGER NOT NULL,
  field TEXT NOT NULL,
  next_check_at INTEGER NOT NULL,
  in_grace INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (account, registrar_index, field)
) STRICT;
CREATE INDEX IF NOT EXISTS judged_proofs_due ON judged_proofs (registrar_index, next_check_at);
`;

/**
 * Schema 9: sanctions screening. The kept list of each format (its entries as one JSON text, so a
 * new list replaces the old in one statement), and the hits: the operator's review queue, one per
 * account, field, identity, list and entry.
 */
const SCHEMA_9 = `
CREATE TABLE IF NOT EXISTS sanctions_lists (
  format TEXT PRIMARY KEY,
  info TEXT NOT NULL,
  entries TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS sanctions_hits (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  account TEXT NOT NULL,
  doc TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS sanctions_hits_by_account ON sanctions_hits (account);
`;

type Row = Record<string, unknown>;

export class SqliteStore implements Store {
  private readonly db: DatabaseSync;
  /** By their SQL, which is one of a few fixed texts each (a table or column name from a fixed set). */
  private readonly statements = new Map<string, StatementSync>();

  /** Opens (and creates, with its folder) the database file; ':memory:' for a private one. */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec('PRAGMA journal_mode = WAL');
    // FULL: a judgement's record must survive a power cut, not only a process crash.
    this.db.exec('PRAGMA synchronous = FULL');
    this.db.exec('PRAGMA foreign_keys = ON');
    this.migrate();
  }

  /**
   * The statement for `sql`, compiled once: compiling costs more than running most of them, and a
   * periodic pass runs a few of them for every open request.
   */
  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Creates or upgrades the schema in one IMMEDIATE transaction, so that two processes opening a
   * new file at once, or a crash half-way, never leave half a schema. `user_version` says which
   * schema the file has; a file from a newer registrar is refused rather than misread.
   */
  private migrate(): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const { user_version: version } = this.db.prepare('PRAGMA user_version').get() as {
        user_version: number;
      };
      if (version > SCHEMA_VERSION) {
        throw new Error(`the store file has schema ${version}; this registrar knows up to ${SCHEMA_VERSION}`);
      }
      if (version < 1) this.db.exec(SCHEMA);
      if (version < 2) this.db.exec(SCHEMA_2);
      if (version < 3) this.db.exec(SCHEMA_3);
      if (version < 4) this.db.exec(SCHEMA_4);
      if (version < 5) this.db.exec(SCHEMA_5);
      if (version < 6) this.db.exec(SCHEMA_6);
      if (version < 7) this.db.exec(SCHEMA_7);
      if (version < 8) this.db.exec(SCHEMA_8);
      if (version < 9) this.db.exec(SCHEMA_9);
      if (version < SCHEMA_VERSION) this.db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      this.db.close();
      throw error;
    }
  }

  async insertRequest(request: JudgementRequest): Promise<void> {
    try {
      this.statement(
        `INSERT INTO requests (id, account, registrar_index, is_open, ready, version, created_at, doc)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        request.id,
        request.account,
        request.registrarIndex,
        isOpenStatus(request.status) ? 1 : 0,
        isReadyForJudgement(request) ? 1 : 0,
        request.version,
        request.createdAt,
        JSON.stringify(request),
      );
    } catch (error) {
      throw translate(error, `request for ${request.account}`);
    }
  }

  async getRequest(id: string): Promise<JudgementRequest | undefined> {
    return parse(this.statement('SELECT doc FROM requests WHERE id = ?').get(id));
  }

  async findOpenRequest(account: string, registrarIndex: number): Promise<JudgementRequest | undefined> {
    return parse(
      this.statement(
        'SELECT doc FROM requests WHERE account = ? AND registrar_index = ? AND is_open = 1',
      ).get(account, registrarIndex),
    );
  }

  async latestRequest(account: string, registrarIndex: number): Promise<JudgementRequest | undefined> {
    return parse(
      this.statement(
        `SELECT doc FROM requests WHERE account = ? AND registrar_index = ?
           ORDER BY is_open DESC, created_at DESC, rowid DESC LIMIT 1`,
      ).get(account, registrarIndex),
    );
  }

  async listOpenRequests(registrarIndex: number): Promise<JudgementRequest[]> {
    return this.statement(
      'SELECT doc FROM requests WHERE registrar_index = ? AND is_open = 1 ORDER BY created_at',
    )
      .all(registrarIndex)
      .map((row) => parse<JudgementRequest>(row) as JudgementRequest);
  }

  async countOpenRequests(registrarIndex: number): Promise<Record<string, number>> {
    const rows = this.statement(
      `SELECT json_extract(doc, '$.status') AS status, count(*) AS n FROM requests
         WHERE registrar_index = ? AND is_open = 1 GROUP BY status`,
    ).all(registrarIndex);
    return Object.fromEntries(rows.map((row) => [String(row.status), Number(row.n)]));
  }

  async listOpenSnapshots(registrarIndex: number): Promise<Map<string, Snapshot>> {
    // The snapshot alone is taken out of each record by SQLite: parsing every record cost more.
    const rows = this.statement(
      `SELECT account, json_extract(doc, '$.snapshot') AS snapshot FROM requests
         WHERE registrar_index = ? AND is_open = 1 ORDER BY created_at`,
    ).all(registrarIndex);
    return new Map(rows.map((row) => [String(row.account), JSON.parse(String(row.snapshot)) as Snapshot]));
  }

  async listReadyRequests(registrarIndex: number): Promise<JudgementRequest[]> {
    return this.statement(
      `SELECT doc FROM requests WHERE registrar_index = ? AND is_open = 1 AND ready IS NOT 0
         ORDER BY created_at`,
    )
      .all(registrarIndex)
      .map((row) => parse<JudgementRequest>(row) as JudgementRequest);
  }

  async updateRequest(request: JudgementRequest): Promise<JudgementRequest | undefined> {
    const next = { ...request, version: request.version + 1 };
    try {
      const result = this.statement(
        // created_at too: a prepared request taken over by the chain's request counts from then.
        'UPDATE requests SET is_open = ?, ready = ?, version = ?, created_at = ?, doc = ? WHERE id = ? AND version = ?',
      ).run(
        isOpenStatus(next.status) ? 1 : 0,
        isReadyForJudgement(next) ? 1 : 0,
        next.version,
        next.createdAt,
        JSON.stringify(next),
        request.id,
        request.version,
      );
      return result.changes === 1 ? next : undefined;
    } catch (error) {
      throw translate(error, `request for ${request.account}`);
    }
  }

  async deletePreparedRequest(id: string, version: number): Promise<boolean> {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const deleted = this.statement(
        `DELETE FROM requests WHERE id = ? AND version = ? AND json_extract(doc, '$.status') = 'prepared'`,
      ).run(id, version).changes;
      if (deleted === 1) this.statement('DELETE FROM challenges WHERE request_id = ?').run(id);
      this.db.exec('COMMIT');
      return deleted === 1;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  async insertChallenge(challenge: Challenge): Promise<void> {
    try {
      this.statement(
        `INSERT INTO challenges (id, request_id, field, expires_at, used_at, voided_at,
             delivered_at, next_delivery_at, doc)
           VALUES (?, ?, ?, ?, NULL, NULL, ?, ?, ?)`,
      ).run(
        challenge.id,
        challenge.requestId,
        challenge.field,
        challenge.expiresAt,
        challenge.deliveredAt ?? null,
        challenge.nextDeliveryAt ?? null,
        JSON.stringify(challenge),
      );
    } catch (error) {
      throw translate(error, 'challenge id');
    }
  }

  async getChallenge(id: string): Promise<Challenge | undefined> {
    return this.readChallenge(id);
  }

  async listChallenges(requestId: string): Promise<Challenge[]> {
    return this.statement('SELECT doc FROM challenges WHERE request_id = ? ORDER BY rowid')
      .all(requestId)
      .map((row) => parse<Challenge>(row) as Challenge);
  }

  async findLiveChallenges(field: Field, subject: string, now: number): Promise<Challenge[]> {
    return this.statement(
      `SELECT doc FROM challenges WHERE field = ? AND used_at IS NULL AND voided_at IS NULL
           AND expires_at > ? AND json_extract(doc, '$.subject') = ? ORDER BY rowid`,
    )
      .all(field, now, subject)
      .map((row) => parse<Challenge>(row) as Challenge);
  }

  async consumeChallenge(id: string, now: number): Promise<ConsumeOutcome> {
    const result = this.statement(
      `UPDATE challenges SET used_at = ?, doc = json_set(doc, '$.usedAt', ?)
         WHERE id = ? AND used_at IS NULL AND voided_at IS NULL AND expires_at > ?`,
    ).run(now, now, id, now);
    const challenge = this.readChallenge(id);
    if (result.changes === 1 && challenge) return { ok: true, challenge };
    return refusal(challenge, now);
  }

  async voidChallenges(requestId: string, now: number, fields?: readonly Field[]): Promise<number> {
    const only = fields ? ` AND field IN (${fields.map(() => '?').join(',')})` : '';
    if (fields?.length === 0) return 0;
    const result = this.statement(
      `UPDATE challenges SET voided_at = ?, doc = json_set(doc, '$.voidedAt', ?)
         WHERE request_id = ? AND used_at IS NULL AND voided_at IS NULL${only}`,
    ).run(now, now, requestId, ...(fields ?? []));
    return Number(result.changes);
  }

  async deleteExpiredChallenges(before: number): Promise<number> {
    this.statement('DELETE FROM deliveries WHERE at < ?').run(before);
    return Number(this.statement('DELETE FROM challenges WHERE expires_at < ?').run(before).changes);
  }

  async dueDeliveries(
    now: number,
    limit: number,
    all = false,
    fields?: readonly Field[],
  ): Promise<Challenge[]> {
    return this.statement(
      `SELECT doc FROM challenges WHERE delivered_at IS NULL AND next_delivery_at <= ?
           AND used_at IS NULL AND voided_at IS NULL AND expires_at > ?
           AND (? IS NULL OR field IN (SELECT value FROM json_each(?)))
         ORDER BY next_delivery_at, rowid LIMIT ?`,
    )
      .all(
        all ? Number.MAX_SAFE_INTEGER : now,
        now,
        fields === undefined ? null : 1,
        JSON.stringify(fields ?? []),
        limit,
      )
      .map((row) => parse<Challenge>(row) as Challenge);
  }

  async recordDelivery(id: string, outcome: DeliveryOutcome): Promise<void> {
    if ('deliveredAt' in outcome) {
      this.transaction(() => {
        const updated = this.statement(
          `UPDATE challenges SET delivered_at = ?, next_delivery_at = NULL, expires_at = ?,
               doc = json_remove(json_set(doc, '$.deliveredAt', ?, '$.expiresAt', ?), '$.nextDeliveryAt')
             WHERE id = ? AND delivered_at IS NULL RETURNING json_extract(doc, '$.account') AS account`,
        ).get(outcome.deliveredAt, outcome.expiresAt, outcome.deliveredAt, outcome.expiresAt, id) as
          | Row
          | undefined;
        if (!updated) return;
        if (outcome.deliveredTo !== undefined) {
          this.statement(`UPDATE challenges SET doc = json_set(doc, '$.deliveredTo', ?) WHERE id = ?`).run(
            outcome.deliveredTo,
            id,
          );
        }
        const insert = this.statement('INSERT INTO deliveries (target, account, at) VALUES (?, ?, ?)');
        insert.run(outcome.target, String(updated.account), outcome.deliveredAt);
        // Counted against the key alone: an empty account is no account's.
        for (const key of outcome.also ?? []) insert.run(key, '', outcome.deliveredAt);
      });
      return;
    }
    // json_set with NULL would store null: a delivery without a problem removes the old one.
    this.statement(
      `UPDATE challenges SET next_delivery_at = ?, expires_at = ?,
           doc = CASE WHEN ? IS NULL
             THEN json_remove(json_set(doc, '$.nextDeliveryAt', ?, '$.deliveryAttempts', ?, '$.expiresAt', ?), '$.deliveryProblem')
             ELSE json_set(doc, '$.nextDeliveryAt', ?, '$.deliveryAttempts', ?, '$.expiresAt', ?, '$.deliveryProblem', ?) END
         WHERE id = ? AND delivered_at IS NULL`,
    ).run(
      outcome.retryAt,
      outcome.expiresAt,
      outcome.problem ?? null,
      outcome.retryAt,
      outcome.attempts,
      outcome.expiresAt,
      outcome.retryAt,
      outcome.attempts,
      outcome.expiresAt,
      outcome.problem ?? null,
      id,
    );
    if (outcome.uncertain) {
      this.statement(
        `UPDATE challenges SET doc = json_set(doc, '$.deliveryUncertain', json('true'))
           WHERE id = ? AND delivered_at IS NULL`,
      ).run(id);
    }
  }

  async deliveryTimes(to: DeliveryTarget, since: number): Promise<number[]> {
    const [column, value] = 'account' in to ? ['account', to.account] : ['target', to.target];
    return this.statement(`SELECT at FROM deliveries WHERE ${column} = ? AND at >= ? ORDER BY at`)
      .all(value, since)
      .map((row) => Number((row as Row).at));
  }

  async recordWrongCode(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const bump = this.statement(
      `UPDATE challenges SET doc = json_set(doc, '$.wrongCodes', coalesce(json_extract(doc, '$.wrongCodes'), 0) + 1)
       WHERE id = ? RETURNING json_extract(doc, '$.wrongCodes') AS wrong`,
    );
    let highest = 0;
    for (const id of ids) {
      const row = bump.get(id) as Row | undefined;
      highest = Math.max(highest, Number(row?.wrong ?? 0));
    }
    return highest;
  }

  async listClosedRequests(before: number, limit: number): Promise<JudgementRequest[]> {
    return this.statement(
      `SELECT doc FROM requests WHERE is_open = 0 AND json_extract(doc, '$.forgottenAt') IS NULL
           AND json_extract(doc, '$.updatedAt') < ? ORDER BY created_at LIMIT ?`,
    )
      .all(before, limit)
      .map((row) => parse<JudgementRequest>(row) as JudgementRequest);
  }

  async deleteChallenges(requestId: string): Promise<number> {
    return Number(this.statement('DELETE FROM challenges WHERE request_id = ?').run(requestId).changes);
  }

  async claimLease(name: string, owner: string, until: number, now: number): Promise<boolean> {
    const result = this.statement(
      `INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
         WHERE leases.owner = excluded.owner OR leases.until <= ?`,
    ).run(name, owner, until, now);
    return result.changes === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.statement('DELETE FROM leases WHERE name = ? AND owner = ?').run(name, owner);
  }

  async appendJudgement(record: JudgementRecord): Promise<void> {
    this.appendLog('judgements', record);
  }

  async listJudgements(account?: string): Promise<JudgementRecord[]> {
    return this.listLog<JudgementRecord>('judgements', account);
  }

  async judgementsSince(registrarIndex: number, since: number): Promise<JudgementRecord[]> {
    return this.statement(
      `SELECT doc FROM judgements
         WHERE json_extract(doc, '$.registrarIndex') = ? AND json_extract(doc, '$.at') >= ? ORDER BY seq`,
    )
      .all(registrarIndex, since)
      .map((row) => parse<JudgementRecord>(row) as JudgementRecord);
  }

  async countRequestsSince(registrarIndex: number, since: number): Promise<number> {
    const row = this.statement(
      `SELECT count(*) AS n FROM requests WHERE registrar_index = ? AND created_at >= ?
         AND json_extract(doc, '$.status') != 'prepared'`,
    ).get(registrarIndex, since) as Row;
    return Number(row.n);
  }

  async appendReview(record: ReviewRecord): Promise<void> {
    this.appendLog('reviews', record);
  }

  async listReviews(account?: string): Promise<ReviewRecord[]> {
    return this.listLog<ReviewRecord>('reviews', account);
  }

  /** The audit logs: one JSON document per entry, in write order, found by account. */
  private appendLog(table: 'judgements' | 'reviews', record: { account: string }): void {
    this.statement(`INSERT INTO ${table} (account, doc) VALUES (?, ?)`).run(
      record.account,
      JSON.stringify(record),
    );
  }

  private listLog<T>(table: 'judgements' | 'reviews', account?: string): T[] {
    const rows =
      account === undefined
        ? this.statement(`SELECT doc FROM ${table} ORDER BY seq`).all()
        : this.statement(`SELECT doc FROM ${table} WHERE account = ? ORDER BY seq`).all(account);
    return rows.map((row) => parse<T>(row) as T);
  }

  async replaceSanctionsList(list: SanctionsList): Promise<void> {
    const { entries, ...rest } = list;
    const info: SanctionsListInfo = { ...rest, entryCount: entries.length };
    this.statement(
      `INSERT INTO sanctions_lists (format, info, entries) VALUES (?, ?, ?)
         ON CONFLICT (format) DO UPDATE SET info = excluded.info, entries = excluded.entries`,
    ).run(list.format, JSON.stringify(info), JSON.stringify(entries));
  }

  async sanctionsLists(): Promise<SanctionsList[]> {
    return this.statement('SELECT info, entries FROM sanctions_lists ORDER BY format')
      .all()
      .map((row) => {
        const { entryCount: _, ...info } = JSON.parse(String((row as Row).info)) as SanctionsListInfo;
        return { ...info, entries: JSON.parse(String((row as Row).entries)) } as SanctionsList;
      });
  }

  async sanctionsListInfo(): Promise<SanctionsListInfo[]> {
    return this.statement('SELECT info FROM sanctions_lists ORDER BY format')
      .all()
      .map((row) => JSON.parse(String((row as Row).info)) as SanctionsListInfo);
  }

  async recordSanctionsHits(hits: readonly SanctionsHit[]): Promise<SanctionsHit[]> {
    const added: SanctionsHit[] = [];
    if (hits.length === 0) return added;
    this.transaction(() => {
      const insert = this.statement(
        'INSERT INTO sanctions_hits (id, account, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
      );
      for (const hit of hits) {
        if (Number(insert.run(hit.id, hit.account, JSON.stringify(hit)).changes) > 0) added.push(hit);
      }
    });
    return added;
  }

  async listSanctionsHits(account?: string): Promise<SanctionsHit[]> {
    const rows =
      account === undefined
        ? this.statement('SELECT doc FROM sanctions_hits ORDER BY seq').all()
        : this.statement('SELECT doc FROM sanctions_hits WHERE account = ? ORDER BY seq').all(account);
    return rows.map((row) => parse<SanctionsHit>(row) as SanctionsHit);
  }

  async claimHandles(claims: readonly HandleClaim[]): Promise<void> {
    if (claims.length === 0) return;
    this.transaction(() => {
      const insert = this.statement(
        'INSERT INTO handles (key, request_id, account, field, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      );
      for (const c of claims) insert.run(c.key, c.requestId, c.account, c.field, c.at);
    });
  }

  async handleHolders(keys: readonly string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    return this.statement(
      'SELECT DISTINCT account FROM handles WHERE key IN (SELECT value FROM json_each(?)) ORDER BY account',
    )
      .all(JSON.stringify(keys))
      .map((row) => String((row as Row).account));
  }

  async releaseHandles(requestId: string, fields?: readonly Field[]): Promise<number> {
    if (fields?.length === 0) return 0;
    return Number(
      this.statement(
        `DELETE FROM handles WHERE request_id = ?
           AND (? IS NULL OR field IN (SELECT value FROM json_each(?)))`,
      ).run(requestId, fields === undefined ? null : 1, JSON.stringify(fields ?? [])).changes,
    );
  }

  async raiseFinalized(chain: string, number: number): Promise<number> {
    const row = this.statement(
      `INSERT INTO finalized (chain, number) VALUES (?, ?)
       ON CONFLICT (chain) DO UPDATE SET number = max(number, excluded.number) RETURNING number`,
    ).get(chain, number) as Row;
    return Number(row.number);
  }

  async highestFinalized(chain: string): Promise<number | undefined> {
    const row = this.statement('SELECT number FROM finalized WHERE chain = ?').get(chain) as Row | undefined;
    return row ? Number(row.number) : undefined;
  }

  async saveJudgedProof(proof: JudgedProof): Promise<void> {
    this.statement(
      `INSERT INTO judged_proofs (account, registrar_index, field, next_check_at, in_grace, doc)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account, registrar_index, field) DO UPDATE SET next_check_at = excluded.next_check_at,
           in_grace = excluded.in_grace, doc = excluded.doc`,
    ).run(
      proof.account,
      proof.registrarIndex,
      proof.field,
      proof.nextCheckAt,
      proof.grace ? 1 : 0,
      JSON.stringify(proof),
    );
  }

  async dueJudgedProofs(registrarIndex: number, now: number, limit: number): Promise<JudgedProof[]> {
    return this.statement(
      `SELECT doc FROM judged_proofs WHERE registrar_index = ? AND next_check_at <= ?
         ORDER BY next_check_at, account, field LIMIT ?`,
    )
      .all(registrarIndex, now, limit)
      .map((row) => parse<JudgedProof>(row) as JudgedProof);
  }

  async listJudgedProofs(account: string, registrarIndex: number): Promise<JudgedProof[]> {
    return this.statement(
      'SELECT doc FROM judged_proofs WHERE account = ? AND registrar_index = ? ORDER BY field',
    )
      .all(account, registrarIndex)
      .map((row) => parse<JudgedProof>(row) as JudgedProof);
  }

  async deleteJudgedProofs(account: string, registrarIndex: number): Promise<number> {
    return Number(
      this.statement('DELETE FROM judged_proofs WHERE account = ? AND registrar_index = ?').run(
        account,
        registrarIndex,
      ).changes,
    );
  }

  async countJudgedProofs(registrarIndex: number): Promise<{ proofs: number; inGrace: number }> {
    const row = this.statement(
      `SELECT count(*) AS n, coalesce(sum(in_grace), 0) AS grace FROM judged_proofs
         WHERE registrar_index = ?`,
    ).get(registrarIndex) as Row;
    return { proofs: Number(row.n), inGrace: Number(row.grace) };
  }

  async getCheckpoint(key: string): Promise<string | undefined> {
    const row = this.statement('SELECT value FROM checkpoints WHERE key = ?').get(key) as Row | undefined;
    return row ? String(row.value) : undefined;
  }

  async setCheckpoint(key: string, value: string, expiresAt?: number): Promise<void> {
    this.statement(
      `INSERT INTO checkpoints (key, value, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ).run(key, value, expiresAt ?? null);
  }

  async deleteCheckpoint(key: string): Promise<void> {
    this.statement('DELETE FROM checkpoints WHERE key = ?').run(key);
  }

  async deleteExpiredCheckpoints(now: number): Promise<number> {
    return Number(
      this.statement('DELETE FROM checkpoints WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now)
        .changes,
    );
  }

  async recordMessage(target: string, account: string, at: number): Promise<void> {
    this.statement('INSERT INTO deliveries (target, account, at) VALUES (?, ?, ?)').run(target, account, at);
  }

  async close(): Promise<void> {
    this.statements.clear();
    if (this.db.isOpen) this.db.close();
  }

  private transaction(work: () => void): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      work();
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  private readChallenge(id: string): Challenge | undefined {
    return parse(this.statement('SELECT doc FROM challenges WHERE id = ?').get(id));
  }
}

function parse<T>(row: unknown): T | undefined {
  if (!row) return undefined;
  return JSON.parse(String((row as Row).doc)) as T;
}

function translate(error: unknown, what: string): unknown {
  const code = (error as { errcode?: number }).errcode;
  // SQLITE_CONSTRAINT_UNIQUE (2067) and SQLITE_CONSTRAINT_PRIMARYKEY (1555).
  if (code === 2067 || code === 1555) return new DuplicateError(what);
  return error;
}
