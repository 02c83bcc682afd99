// Per-key actors: each key gets a mailbox on first message, handles one message at a time in arrival order,
// and is dropped as soon as its mailbox is empty, so memory follows the work in flight, not the number of keys.
import { Mailbox } from './mailbox.js';

export type Receive<M> = (key: string, message: M) => Promise<void>;
export type OnActorError<M> = (err: unknown, key: string, message: M) => void;

/**
 * @example
 *   const users = new ActorSystem<Msg>(async (userId, msg) => handle(userId, msg), (err) => log.error(err));
 *   users.tell('u1', a); users.tell('u1', b); // b starts after a finishes; other users run concurrently
 */
export class ActorSystem<M> {
  private readonly actors = new Map<string, Mailbox<M>>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly receive: Receive<M>,
    private readonly onError: OnActorError<M>,
  ) {}

  tell(key: string, message: M): void {
    const existing = this.actors.get(key);
    if (existing) {
      existing.push(message);
      return;
    }
    const mailbox = new Mailbox<M>();
    mailbox.push(message);
    this.actors.set(key, mailbox);
    void this.run(key, mailbox);
  }

  /** Actors alive now (each has work queued or running). */
  get size(): number {
    return this.actors.size;
  }

  /** Resolves when no actor has work. */
  idle(): Promise<void> {
    if (this.actors.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(key: string, mailbox: Mailbox<M>): Promise<void> {
    for (let message = mailbox.shift(); message !== undefined; message = mailbox.shift()) {
      try {
        await this.receive(key, message);
      } catch (err) {
        this.onError(err, key, message);
      }
    }
    this.actors.delete(key);
    if (this.actors.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
