/** Scripted stand-ins for the registrar's unit tests: an identity as the chain would give it, a channel that records what it sends, a judge that answers as told. */
import type { ChainIdentity } from '../../src/chain/identity.js';
import type { Judge, JudgeOutcome } from '../../src/chain/judge.js';
import type { ChallengeMessage, Channel } from '../../src/channels/channel.js';
import type { ChannelMeans } from '../../src/domain/answers.js';
import type { Field } from '../../src/domain/fields.js';
import type { IdentityInfo } from '../../src/domain/identity.js';

export const ACCOUNT = '15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5';
export const INDEX = 1;

export function identity(email: string, hash: string, judgement = 'FeePaid'): ChainIdentity {
  const info: IdentityInfo = {
    layout: 'people',
    values: {
      display: { kind: 'raw', hex: '0x00', text: 'Alice' },
      email: { kind: 'raw', hex: '0x00', text: email },
    },
  };
  return { info, snapshot: { infoHex: '0x00', hash }, judgements: [{ registrarIndex: INDEX, judgement }] };
}

/** Client addresses typing codes on the public form. */
export const CLIENT = '198.51.100.7';
export const STRANGER = '203.0.113.9';

export class RecordingChannel implements Channel {
  readonly sent: ChallengeMessage[] = [];
  constructor(
    readonly field: Field = 'email',
    readonly means: readonly ChannelMeans[] = ['message'],
  ) {}
  async send(message: ChallengeMessage): Promise<void> {
    this.sent.push(message);
  }
}

export class ScriptedJudge implements Judge {
  readonly calls: { target: string; hash: string }[] = [];
  constructor(private readonly outcomes: JudgeOutcome[]) {}
  async giveJudgement(target: string, hash: string): Promise<JudgeOutcome> {
    this.calls.push({ target, hash });
    return this.outcomes.shift() ?? { kind: 'failed', error: 'no more scripted outcomes' };
  }
}
