/**
 * What the registrar counts, for Prometheus (`/metrics`, prom-client). The registrar's parts report
 * through the small `RegistrarMetrics` interface; gauges that describe the present (requests by
 * state, the chain connection, the proxy's balance) are read when scraped.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConnectionState } from '../chain/connection.js';
import type { Field } from '../domain/fields.js';

export interface RegistrarMetrics {
  challengeSent(field: Field): void;
  challengeUndelivered(field: Field): void;
  fieldConfirmed(field: Field): void;
  /** included, different-identity or failed. */
  judgement(outcome: string, secondsSinceRequest?: number): void;
  /** A new sanctions screening hit, by field (legal, display). */
  sanctionsHit(field: Field): void;
  /** A fetch of the sanctions list from its URL: ok or failed (the kept list stays). */
  sanctionsFetch(outcome: 'ok' | 'failed'): void;
  /** The sweep checked a judged proof again: holds, gone or unknown. */
  judgedProofChecked(field: Field, answer: string): void;
  /** What a sweep check led to: grace-started, restored or out-of-date. */
  sweepOutcome(outcome: string): void;
}

export const NO_METRICS: RegistrarMetrics = {
  challengeSent: () => undefined,
  challengeUndelivered: () => undefined,
  fieldConfirmed: () => undefined,
  judgement: () => undefined,
  sanctionsHit: () => undefined,
  sanctionsFetch: () => undefined,
  judgedProofChecked: () => undefined,
  sweepOutcome: () => undefined,
};

export interface MetricSources {
  openRequests: () => Promise<Record<string, number>>;
  chain: () => ConnectionState;
  /** The proxy account's free balance in planck, or undefined when it cannot be read now. */
  proxyBalance: () => Promise<bigint | undefined>;
  /** The judged proofs the sweep keeps, and how many are in a grace period. */
  judgedProofs: () => Promise<{ proofs: number; inGrace: number }>;
}

export function createMetrics(sources: MetricSources): { registry: Registry; metrics: RegistrarMetrics } {
  const registry = new Registry();
  const sent = new Counter({
    name: 'registrar_challenges_sent_total',
    help: 'Challenges delivered, by channel',
    labelNames: ['channel'],
    registers: [registry],
  });
  const undelivered = new Counter({
    name: 'registrar_challenges_undelivered_total',
    help: 'Challenges a channel could not deliver (sent again later), by channel',
    labelNames: ['channel'],
    registers: [registry],
  });
  const confirmed = new Counter({
    name: 'registrar_fields_confirmed_total',
    help: 'Fields proven through a challenge, by channel',
    labelNames: ['channel'],
    registers: [registry],
  });
  const judgements = new Counter({
    name: 'registrar_judgements_total',
    help: 'Judgement submissions, by outcome (included, different-identity, failed)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const sanctionsHits = new Counter({
    name: 'registrar_sanctions_hits_total',
    help: 'Names found like a sanctions list entry (each put in the operator review queue), by field',
    labelNames: ['field'],
    registers: [registry],
  });
  const sanctionsFetches = new Counter({
    name: 'registrar_sanctions_fetches_total',
    help: 'Fetches of the sanctions list from REGISTRAR_SANCTIONS_URL, by outcome (ok, failed: the kept list stays)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'registrar_request_to_judgement_seconds',
    help: 'Time from opening a request to its judgement being included',
    buckets: [6, 12, 30, 60, 300, 900, 3600, 21_600, 86_400, 604_800],
    registers: [registry],
  });
  const checks = new Counter({
    name: 'registrar_judged_proof_checks_total',
    help: 'Judged proofs checked again by the sweep, by channel and answer (holds, gone, unknown)',
    labelNames: ['channel', 'answer'],
    registers: [registry],
  });
  const sweepOutcomes = new Counter({
    name: 'registrar_sweep_outcomes_total',
    help: 'What sweep checks led to: grace-started, restored, out-of-date (an OutOfDate judgement included)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'registrar_judged_proofs',
    help: 'Judged proofs kept for the sweep, by state (kept: all of them; in_grace: gone, with time to restore)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const { proofs, inGrace } = await sources.judgedProofs();
      this.set({ state: 'kept' }, proofs);
      this.set({ state: 'in_grace' }, inGrace);
    },
  });
  new Gauge({
    name: 'registrar_requests',
    help: 'Open requests, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [state, count] of Object.entries(await sources.openRequests())) this.set({ state }, count);
    },
  });
  new Gauge({
    name: 'registrar_chain_connected',
    help: '1 when connected to a chain endpoint',
    registers: [registry],
    collect() {
      this.set(sources.chain().connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'registrar_chain_finalized_head',
    help: 'The last finalized block seen',
    registers: [registry],
    collect() {
      const head = sources.chain().head;
      if (head !== undefined) this.set(head);
    },
  });
  new Gauge({
    name: 'registrar_chain_head_age_seconds',
    help: 'Seconds since the last finalized head was seen',
    registers: [registry],
    collect() {
      const { headAt } = sources.chain();
      if (headAt !== undefined) this.set((Date.now() - headAt) / 1000);
    },
  });
  new Counter({
    name: 'registrar_chain_reconnects_total',
    help: 'Reconnections to a chain endpoint',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.chain().reconnects);
    },
  });
  new Gauge({
    name: 'registrar_proxy_balance_planck',
    help: "The judgement proxy's free balance, which pays transaction fees",
    registers: [registry],
    async collect() {
      const balance = await sources.proxyBalance();
      if (balance !== undefined) this.set(Number(balance));
    },
  });
  return {
    registry,
    metrics: {
      challengeSent: (field) => sent.inc({ channel: field }),
      challengeUndelivered: (field) => undelivered.inc({ channel: field }),
      fieldConfirmed: (field) => confirmed.inc({ channel: field }),
      judgement: (outcome, seconds) => {
        judgements.inc({ outcome });
        if (outcome === 'included' && seconds !== undefined) latency.observe(seconds);
      },
      sanctionsHit: (field) => sanctionsHits.inc({ field }),
      sanctionsFetch: (outcome) => sanctionsFetches.inc({ outcome }),
      judgedProofChecked: (field, answer) => checks.inc({ channel: field, answer }),
      sweepOutcome: (outcome) => sweepOutcomes.inc({ outcome }),
    },
  };
}
