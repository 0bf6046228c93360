/**
 * Fields only a person can check (the legal name, the image): the challenge is a review the
 * operator answers with `registrar review` (or the admin API). Nothing is sent to anyone; the
 * person's status page says the registrar is reviewing the field.
 */

import type { ChannelMeans } from '../domain/answers.js';
import type { Field } from '../domain/fields.js';
import type { Logger } from '../support/log.js';
import type { ChallengeMessage, Channel } from './channel.js';

export class ReviewChannel implements Channel {
  readonly means: readonly ChannelMeans[] = ['review'];
  readonly messages = false;
  readonly review = true;
  constructor(
    readonly field: Field,
    private readonly log: Logger,
  ) {}

  async send(message: ChallengeMessage): Promise<void> {
    this.log.info({ account: message.account, field: this.field }, 'field awaits an operator review');
  }
}
