// A channel actor drains one lane: sends each delivery through the lane's providers (failing over on
// provider-side errors), then records the outcome and acknowledges the entry in one atomic step.
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { decideOutcome, deliveryRecord, type Outcome } from '../domain/outcome.js';
import type { RetryPolicy } from '../domain/retry.js';
import { DELIVERY_FIELD_PREFIX, isSettled, type DeliveryRecord } from '../domain/record.js';
import { keyedMark, laneDeadMark } from '../domain/dead-mark.js';
import { isDeliveryTask, type AttemptNote, type DeliveryTask } from '../domain/task.js';
import type { ProviderName } from '../domain/types.js';
import { answerWithin } from '../providers/guard.js';
import type { OutboundMessage, SendFailure, SendResult } from '../providers/types.js';
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Metrics } from '../telemetry/metrics.js';
import { childContext, contextOf, recordError, startSpan, traceparentOf } from '../telemetry/tracing.js';
import { KeyList, LANE_PROVIDERS, SEND_GROUP, runScript, type Keys, type Lane } from '../streams/index.js';
import { StreamConsumer, type Entry } from '../streams/consumer.js';
import { Batcher } from './batcher.js';
import type { ProviderGate } from './provider-gate.js';

export interface ChannelOptions {
  consumer: string;
  batch: number;
  /** Sends in flight at once on this lane. */
  concurrency: number;
  blockMs: number;
  claimIdleMs: number;
  maxDeliveries: number;
  maxHandleMs: number;
  retry: RetryPolicy;
  /** Whether an email address is on the tenant's suppression list (checked before each email send). */
  suppressed?: (tenant: string, address: string) => Promise<boolean>;
  /** The stream to read: the lane's (default) or its bulk stream (keys.bulkLane), whose retries come back to it. */
  stream?: string;
}

/** What a send came to: the last provider tried, its result, and the failures of those tried before it. */
interface Sent {
  provider: ProviderName;
  result: SendResult;
  earlier: AttemptNote[];
}

interface Done {
  entryId: string;
  task: DeliveryTask;
  outcome: Outcome;
}

const NO_PROVIDER: SendResult = { ok: false, retryable: false, providerSide: false, code: 'no_provider', message: 'no provider is configured for this lane' };
const SUPPRESSED: SendResult = {
  ok: false, retryable: false, providerSide: false, suppressed: true, code: 'suppressed', message: 'the address is on the suppression list (a hard bounce or a complaint)',
};

/** Every provider of the lane is known to be down: wait (without spending an attempt) until a circuit half-opens. */
const circuitOpen = (gates: readonly ProviderGate[]): SendResult => ({
  ok: false, retryable: true, providerSide: true, throttled: true, code: 'circuit_open',
  message: `every provider of this lane is unavailable (${gates.map((g) => g.name).join(', ')})`,
  retryAfterMs: Math.min(...gates.map((g) => g.openFor())),
});

export class ChannelActor {
  /** The stream this actor reads and acknowledges on. */
  readonly stream: string;
  private readonly consumer: StreamConsumer;
  private readonly commits: Batcher<Done, void>;

  constructor(
    private readonly redis: Redis,
    blocking: Redis,
    private readonly keys: Keys,
    readonly lane: Lane,
    private readonly gates: readonly ProviderGate[],
    private readonly opts: ChannelOptions,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.stream = opts.stream ?? keys.lane(lane);
    this.consumer = new StreamConsumer(redis, blocking, {
      stream: this.stream, group: SEND_GROUP, consumer: opts.consumer, count: opts.batch, blockMs: opts.blockMs,
      maxInflight: opts.concurrency, claimIdleMs: opts.claimIdleMs,
      maxDeliveries: opts.maxDeliveries, maxHandleMs: opts.maxHandleMs,
      dead: { stream: keys.dead, events: keys.events, kind: 'delivery', lane, mark: (e) => keyedMark(laneDeadMark(e.fields), keys.notification) },
    }, this.onEntries, log.child({ lane }));
    this.commits = new Batcher((done) => this.commit(done), opts.batch * 2);
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  async stop(timeoutMs: number): Promise<number> {
    await this.consumer.stop();
    return this.consumer.drained(timeoutMs);
  }

  get inflight(): number {
    return this.consumer.inflightCount;
  }

  private readonly onEntries = (entries: Entry[], claimed: boolean): void => {
    for (const e of entries) void this.process(e, claimed);
  };

  private async process(e: Entry, claimed: boolean): Promise<void> {
    let span: Span | undefined;
    try {
      let task: DeliveryTask;
      try {
        task = JSON.parse(e.fields.d ?? '') as DeliveryTask;
      } catch {
        await this.deadLetter(e, 'invalid_task');
        return;
      }
      if (!isDeliveryTask(task)) {
        await this.deadLetter(e, 'invalid_task');
        return;
      }
      if (claimed && (await this.alreadyRecorded(e, task))) return;
      span = startSpan(`deliver ${task.channel} via ${this.lane}`, contextOf(task.tp), {
        attributes: {
          'notify.notification_id': task.nid, 'notify.channel': task.channel, 'notify.lane': this.lane, 'notify.attempt': task.attempt,
          // Throttled tries do not spend an attempt: this tells two tries of the same attempt apart.
          'notify.throttled': task.throttled ?? 0,
        },
      });
      const suppressed = task.channel === 'email' && this.opts.suppressed !== undefined && await this.opts.suppressed(task.tenant, task.to);
      const { provider, result, earlier } = suppressed ? { provider: LANE_PROVIDERS[this.lane][0]!, result: SUPPRESSED, earlier: [] } : await this.send(e.id, task, span);
      const outcome = decideOutcome(task, provider, result, this.opts.retry, this.now(), this.random, earlier);
      // Feedback arriving later (delivered, bounced) joins the trace under this attempt.
      const tp = outcome.kind === 'sent' ? (traceparentOf(span) ?? task.tp) : undefined;
      if (tp) outcome.record.tp = tp;
      await this.commits.add({ entryId: e.id, task, outcome });
      this.observe(task, provider, outcome, span);
    } catch (err) {
      if (span) recordError(span, err);
      this.log.error({ err, lane: this.lane, entry: e.id }, 'delivery not recorded; it stays pending and will be claimed again');
    } finally {
      span?.end();
      this.consumer.release(e.id);
    }
  }

  /** Metrics and span facts for a recorded outcome. */
  private observe(task: DeliveryTask, provider: ProviderName, outcome: Outcome, span: Span): void {
    const status = outcome.record.status;
    this.metrics.deliveries.inc({ channel: task.channel, provider, status });
    if (outcome.kind === 'sent') this.metrics.acceptToSend.observe({ channel: task.channel }, Math.max(0, this.now() - task.accepted_at) / 1000);
    if (outcome.kind === 'failed' && outcome.deadLetter) {
      this.metrics.deliveries.inc({ channel: task.channel, provider, status: 'dead_lettered' });
      span.addEvent('dead-lettered', { 'notify.reason': outcome.deadLetter.reason });
      startSpan('dead-letter', childContext(span), { attributes: { 'notify.notification_id': task.nid, 'notify.reason': outcome.deadLetter.reason } }).end();
    }
    if (outcome.kind === 'retry') span.addEvent('retry scheduled', { 'notify.retry_in_ms': outcome.dueAt - this.now(), 'notify.next_attempt': outcome.next.attempt });
    if (outcome.kind === 'failed' && outcome.deadToken) span.addEvent('device token deactivated');
    span.setAttributes({ 'notify.provider': provider, 'notify.status': status });
    if (status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.record.last_error ?? 'failed' });
  }

  /**
   * Tries the lane's providers in order, skipping those whose circuit is open; moves on only when the provider refused
   * for its own reason (down, throttled, 5xx, account refusal), never for a message's own fault nor after a timeout.
   */
  private async send(entryId: string, task: DeliveryTask, parent: Span): Promise<Sent> {
    if (this.gates.length === 0) return { provider: LANE_PROVIDERS[this.lane][0]!, result: NO_PROVIDER, earlier: [] };
    const message = toOutbound(task);
    // Failures of the providers failed over from, for the history: a provider's real answer, not our own gate's refusal
    // nor a throttle (throttles stay out of the history, see decideOutcome).
    const earlier: AttemptNote[] = [];
    let last: Sent | undefined;
    let lastAt = 0;
    for (const gate of this.gates) {
      if (!gate.tryEnter()) continue;
      if (last && !last.result.ok && !last.result.local && !last.result.throttled) {
        earlier.push({ at: lastAt, provider: last.provider, code: last.result.code, message: last.result.message });
      }
      let result = await gate.send(message, (call) => this.providerCall(gate.name, task, parent, call));
      if (!result.ok && result.late) result = await this.lateAnswer(entryId, task, gate.name, result, parent);
      last = { provider: gate.name, result, earlier };
      lastAt = this.now();
      if (result.ok) return last;
      if (result.local) {
        this.metrics.localThrottles.inc({ provider: gate.name });
        parent.addEvent('throttled locally', { 'notify.provider': gate.name, 'notify.retry_in_ms': result.retryAfterMs ?? 0 });
      } else this.metrics.providerErrors.inc({ provider: gate.name, class: errorClass(result), code: result.code });
      // A message's own fault is not cured elsewhere; a timeout may have been delivered, so it waits for a retry.
      if (result.maybeDelivered) this.log.warn({ lane: this.lane, provider: gate.name, code: result.code }, 'no answer from the provider; it may have delivered, retrying later');
      if (!result.providerSide || result.maybeDelivered) return last;
      this.log.warn({ lane: this.lane, provider: gate.name, code: result.code }, 'provider-side failure; trying the next provider');
    }
    return last ?? { provider: this.gates[0]!.name, result: circuitOpen(this.gates), earlier };
  }

  /**
   * No answer within the send timeout: the outcome is unknown, and no provider lets us send again without risking a
   * second copy. So the record notes the timeout (the delivery shows `retrying` meanwhile), and the still-open request's
   * answer, when it comes, is this attempt's outcome: a late 200 is `sent`, sent once. Only a request that never
   * answered (the SDK's bound passed) is retried, later, as any timeout. The lane entry stays in hand meanwhile (its
   * lane slot is the bound on such requests); the provider's slot was freed at the timeout.
   */
  private async lateAnswer(entryId: string, task: DeliveryTask, provider: ProviderName, timedOut: SendFailure, parent: Span): Promise<SendResult> {
    this.log.warn({ lane: this.lane, provider, code: timedOut.code }, 'no answer within the send timeout; waiting for a late answer before sending again');
    const record = deliveryRecord(task, 'retrying', provider, this.now(), { last_error: `${timedOut.code}: ${timedOut.message}; waiting for a late answer` });
    const noted = runScript(this.redis, 'noteUnanswered', [this.stream, this.keys.notification(task.tenant, task.nid), this.keys.events], [
      SEND_GROUP, this.opts.consumer, entryId, DELIVERY_FIELD_PREFIX + task.dk, JSON.stringify(record),
    ]).catch((err: unknown) => this.log.warn({ err, lane: this.lane }, 'could not note the unanswered send on its record'));
    const { late: _late, ...failure } = timedOut;
    const answer = await timedOut.late!.catch((): SendResult => failure);
    // Written before the outcome is committed, so the note never overwrites it.
    await noted;
    parent.addEvent('late answer', { 'notify.provider': provider, 'notify.ok': answer.ok });
    if (answer.ok) return answer;
    // Never answered at all: the deadline's failure says what happened, and is retried (not failed over) as before.
    return answer.code === 'timeout' ? { ...failure, message: `${failure.message}, nor later` } : answer;
  }

  /** The provider call itself: its span and latency (the gate's waits are not in them), bounded by the send timeout. */
  private async providerCall(provider: ProviderName, task: DeliveryTask, parent: Span, call: () => Promise<SendResult>): Promise<SendResult> {
    const span = startSpan(`${provider} send`, childContext(parent), {
      kind: SpanKind.CLIENT, attributes: { 'notify.provider': provider, 'notify.notification_id': task.nid, 'notify.attempt': task.attempt },
    });
    const started = performance.now();
    const deadline = this.opts.retry.sendTimeoutMs;
    const result = await (deadline === undefined ? call() : answerWithin(provider, deadline, call()));
    this.metrics.providerLatency.observe({ provider }, (performance.now() - started) / 1000);
    endProviderSpan(span, result);
    return result;
  }

  private async commit(done: Done[]): Promise<void[]> {
    const keys = new KeyList([this.stream, this.keys.delayed, this.keys.dead]);
    const args: (string | number)[] = [SEND_GROUP, this.lane, done.length, this.now(), this.opts.consumer];
    for (const { entryId, task, outcome } of done) {
      args.push(keys.index(this.keys.notification(task.tenant, task.nid)), entryId, DELIVERY_FIELD_PREFIX + task.dk, JSON.stringify(outcome.record));
      if (outcome.kind === 'retry') args.push(outcome.dueAt, `${this.stream}\nd\n${JSON.stringify(outcome.next)}`);
      else args.push('', '');
      const failed = outcome.kind === 'failed' ? outcome : undefined;
      if (failed?.deadLetter) args.push(failed.deadLetter.reason, JSON.stringify(failed.deadLetter.task));
      else args.push('', '');
      if (failed?.deadToken) {
        args.push(keys.index(this.keys.user(task.tenant, task.user_id)), failed.deadToken.token, failed.deadToken.at ?? '');
      } else args.push('', '', '');
    }
    const acked = Number(await runScript(this.redis, 'commitSends', [...keys.keys, this.keys.events], args));
    if (acked < done.length) {
      this.log.warn({ lane: this.lane, skipped: done.length - acked }, 'outcomes dropped: their entries were taken over by another consumer while this one stalled');
    }
    return done.map(() => undefined);
  }

  /**
   * Read again (claimed, or replayed by a group recreated from the start) although its delivery is already sent or
   * failed: acknowledged without sending again. Only claimed entries are checked, so the hot path pays nothing.
   */
  private async alreadyRecorded(e: Entry, task: DeliveryTask): Promise<boolean> {
    const raw = await this.redis.hget(this.keys.notification(task.tenant, task.nid), DELIVERY_FIELD_PREFIX + task.dk);
    if (!isSettled(raw ? (JSON.parse(raw) as DeliveryRecord) : undefined)) return false;
    this.log.info({ lane: this.lane, entry: e.id }, 'lane entry read again after its delivery was settled; acknowledged, not sent again');
    await this.redis.xack(this.stream, SEND_GROUP, e.id);
    return true;
  }

  private async deadLetter(e: Entry, reason: string): Promise<void> {
    this.log.warn({ lane: this.lane, entry: e.id, reason }, 'lane entry dead-lettered');
    await this.consumer.deadLetter(e, reason, 'the entry has no readable delivery task');
  }
}

function toOutbound(t: DeliveryTask): OutboundMessage {
  const m = {
    deliveryId: t.mid ?? `${t.nid}:${t.dk}`, notificationId: t.nid, deliveryKey: t.dk, tenant: t.tenant, priority: t.priority,
    channel: t.channel, to: t.to, content: t.content,
  } as OutboundMessage;
  if (t.collapse_key) m.collapseKey = t.collapse_key;
  if (t.data) m.data = t.data;
  return m;
}

function errorClass(f: SendFailure): string {
  if (f.tokenInvalid) return 'token_invalid';
  if (f.throttled) return 'throttled';
  return f.retryable ? 'retryable' : 'permanent';
}

function endProviderSpan(span: Span, result: SendResult): void {
  if (result.ok) span.setAttribute('notify.provider_message_id', result.providerMessageId);
  else {
    span.setAttributes({ 'notify.error_code': result.code, 'notify.retryable': result.retryable, ...(result.status && { 'http.response.status_code': result.status }) });
    span.setStatus({ code: SpanStatusCode.ERROR, message: result.message });
  }
  span.end();
}
