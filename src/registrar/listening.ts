/**
 * The channels that listen for answers (bots): started once each, with the registrar as the sink
 * they report to. One that cannot start (its service is down) is tried again at every
 * reconciliation; meanwhile its challenges wait, undelivered, not lost.
 */
import type { Channel, ProofSink } from '../channels/channel.js';
import type { Logger } from '../support/log.js';
import { errorText } from './updates.js';

export class ListeningChannels {
  private readonly started = new Set<Channel>();

  constructor(
    private readonly channels: Iterable<Channel>,
    private readonly sink: ProofSink,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    for (const channel of this.channels) {
      if (!channel.start || this.started.has(channel)) continue;
      try {
        await channel.start(this.sink);
        this.started.add(channel);
      } catch (error) {
        this.log.error(
          { channel: channel.field, err: errorText(error) },
          'channel could not start; its challenges wait until it does',
        );
      }
    }
  }
}
