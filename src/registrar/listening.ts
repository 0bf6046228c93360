/**
 * The channels that listen for answers (bots): started once each, with the registrar as the sink
 * they report to, in the background: a homeserver that accepts and never answers holds up nothing
 * but its own channel (not the watcher, not the other channels). Until a channel has started its
 * challenges wait in the outbox, undelivered, not lost; one that could not start is tried again at
 * the next reconciliation.
 */
import type { Channel, ProofSink } from '../channels/channel.js';
import { errorText } from '../support/errors.js';
import type { Logger } from '../support/log.js';

/** How long a start may take before the log says it is still waiting. */
const SLOW_START_MS = 60_000;

export class ListeningChannels {
  private readonly started = new Set<Channel>();
  private readonly starting = new Set<Channel>();

  constructor(
    private readonly channels: Iterable<Channel>,
    private readonly sink: ProofSink,
    private readonly log: Logger,
    /** Called when a channel has started (its waiting challenges can go now). */
    private readonly onStarted: () => void = () => undefined,
  ) {}

  /** Starts, in the background, every listening channel not started or starting yet. */
  start(): void {
    for (const channel of this.channels) {
      if (!channel.start || this.started.has(channel) || this.starting.has(channel)) continue;
      this.starting.add(channel);
      const slow = setTimeout(
        () => this.log.warn({ channel: channel.field }, 'channel still starting; its challenges wait'),
        SLOW_START_MS,
      );
      slow.unref();
      channel
        .start(this.sink)
        .then(
          () => {
            this.started.add(channel);
            this.onStarted();
          },
          (error: unknown) => {
            this.log.error(
              { channel: channel.field, err: errorText(error) },
              'channel could not start; its challenges wait until it does',
            );
          },
        )
        .finally(() => {
          clearTimeout(slow);
          this.starting.delete(channel);
        });
    }
  }

  /** Whether `channel` can deliver: it listens for nothing, or it has started. */
  ready(channel: Channel): boolean {
    return !channel.start || this.started.has(channel);
  }
}
