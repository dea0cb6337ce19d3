// Type definitions for nexaclient/relay.

import { EventEmitter } from 'events';
import { NexaClient, NexaClientOptions, ChangeEvent, OperationType, GapItem, CatchUpItem } from './index';

export { GapItem, CatchUpItem };

/**
 * A gap entry: the client's gap items ('reconnect', 'dropOldest',
 * 'undecodable'), and the relay's own: 'restart' (no relay was running
 * between `since` and `until`) and 'relayStall' (Redis held the relay up
 * past maxStallMs; `count` changes were discarded); and, from a consumer,
 * 'trimmed' (`count` pending messages trimmed from the stream before they were handled).
 */
export type RelayGapItem =
  | GapItem
  | { operationType: 'gap'; ns: { db: 'nexadb'; coll: string | null }; reason: 'restart' | 'relayStall' | 'trimmed'; since: number; until: number; count?: number };

/** What a relayed stream holds: changes, gaps and catch-up documents. */
export type RelayedItem<T = Record<string, unknown>> = ChangeEvent<T> | RelayGapItem | CatchUpItem<T>;

/** A node-redis client, a redis:// URL, or createClient() options. */
export type RedisGiven = string | Record<string, unknown> | { sendCommand(args: string[]): Promise<unknown>; duplicate(options?: object): unknown };

/** One entry for a sink: its stream, its de-duplication key, its fields (name, value, ...). */
export interface SinkEntry {
  stream: string;
  key: string;
  fields: string[];
  /** The change's server timestamp (s), null for gaps and catch-ups. */
  ts: number | null;
  /** When the relay read it (epoch ms). */
  at: number;
  /** About what its fields take (their lengths summed), counted against maxQueueBytes. */
  bytes: number;
  /** For a gap entry: its reason and time span (s). */
  gap?: { reason: string; since: number; until: number };
}

/** A relay's liveness record, kept in the sink (epoch ms). */
export interface RelayRecord {
  since: number;
  /** Since when it has had no hole of its own. */
  coverageSince: number;
  /** From when every change up to `covered` is in the stream or inside a gap entry: its start, or the start of a restart gap it appended. Absent in an older relay's record: `since` is taken. */
  coveredFrom?: number;
  seen: number;
  /** Every change before it is appended or inside an appended gap entry: held at a lost connection until its gap is appended, at a gone relay's hole until its gap is appended, and at the oldest entry not appended. */
  covered: number;
  streams: string[];
  /** What it relays: a relay of other changes never covers for this one; where their changes overlap, the holes it left are followed. Absent in an older relay's record: taken as the same. */
  relaying?: { collection: string | null; operations: string[] };
  /** How long after `seen` the record is a dead relay's (2.5 of its heartbeats). Absent in an older relay's record: the reader's own. */
  staleMs?: number;
  /** Written from the moment the relay stops receiving (close(), or its change stream failed for good), while it drains too. */
  stopped?: true;
}

/** Where a relay appends: Redis Streams by default; any object with these methods. */
export interface Sink {
  open(): Promise<void>;
  /** Appends in order, each key at most once within the de-duplication window; rejects when nothing may be assumed written. A closing relay stops waiting at closeTimeoutMs (the outcome is then ignored and assumed not written). */
  append(entries: SinkEntry[]): Promise<{ appended: number; duplicates: number }>;
  putRecord(relayId: string, record: RelayRecord): Promise<void>;
  records(): Promise<Map<string, RelayRecord>>;
  removeRecords(relayIds: string[]): Promise<void>;
  /** A closing relay waits for it 1 s at most. */
  close(): Promise<void>;
}

export interface RelayOptions {
  /** A NexaClient (used as it is), its options or a nexadb:// URL (then a client of the relay's own). */
  nexadb: NexaClient | NexaClientOptions | string;
  /** Redis to append to; or give `sink`. */
  redis?: RedisGiven;
  sink?: Sink;
  /** One collection; default null: every collection. */
  collection?: string | null;
  operations?: OperationType[];
  /** Stream name; '{collection}' in it makes one stream per collection. Default 'nexadb:changes'. */
  stream?: string;
  /** Entries follow the server's timestamp order within this window. Default 50. */
  reorderWindowMs?: number;
  /** How long a change's de-duplication key is kept. Default 60000. */
  dedupWindowMs?: number;
  /** Trim the stream to about this many entries (MAXLEN ~). */
  maxLen?: number;
  /** Trim entries older than this many ms (MINID ~). */
  retention?: number;
  /** Entries waiting for the sink at most. Default 10000. */
  maxQueue?: number;
  /** Bytes (about: the entries' field lengths) waiting for the sink at most. Default 67108864 (64 MiB). */
  maxQueueBytes?: number;
  /** How long a full queue may hold up reading NexaDB before the relay discards into a gap entry. Default 10000; Infinity: never. */
  maxStallMs?: number;
  /** Entries per append. Default 256. */
  batchSize?: number;
  /** How often the relay records that it is alive. Default 1000. */
  heartbeatMs?: number;
  /** After a 'reconnect' gap, the documents changed during it follow as catch-up items. Default false. */
  catchUp?: boolean;
  /** Default: host name, pid and a random suffix. */
  relayId?: string;
  /** close(): how long it appends what it had received, whatever the sink does; close() first goes on receiving for reorderWindowMs + 250 ms (what was on its way arrives), and settles within this plus about 2 s. Default 10000. */
  closeTimeoutMs?: number;
}

export interface RelayStats {
  appended: number;
  /** Appends skipped because another relay (or a retry) had appended the change. */
  duplicates: number;
  /** Gap entries this relay offered: appended by it or (a restart gap) already by another relay. */
  gaps: number;
  /** This relay's holes another running relay had covered: not appended as gaps. */
  gapsCovered: number;
  /** Changes discarded into a 'relayStall' gap. */
  discarded: number;
  redisErrors: number;
  queued: number;
  /** The newest appended change's server timestamp (s). */
  newestTimestamp: number | null;
  /** Now minus newestTimestamp, in ms. */
  lagMs: number | null;
}

export declare class Relay extends EventEmitter {
  readonly id: string;
  readonly stream: string;
  /** Resolves once subscribed, connected to the sink and past the restart check; rejects if NexaDB or the sink cannot be reached at first, or ('relay closed while starting') when close() came first: the relay then wrote no record of its own. */
  readonly ready: Promise<void>;
  /** Resolves once the relay has ended and written its last record (close(), or the change stream failed for good). */
  readonly done: Promise<void>;
  stats(): RelayStats;
  /** Stops receiving from NexaDB, appends what it had received (for at most closeTimeoutMs), records that it stopped, ends. */
  close(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'sinkError', listener: (err: Error) => void): this;
  on(event: 'stall', listener: (info: { queued: number; stalledMs: number }) => void): this;
}

export declare function relay(options: RelayOptions): Relay;

export interface ConsumeOptions {
  redis: RedisGiven;
  stream: string;
  group: string;
  /** Default: host name and pid. */
  consumer?: string;
  /** Where a new group starts: a stream id, a Date, '$' (new entries only, the default) or '0' (every retained entry). */
  from?: string | Date;
  /** Claim other consumers' messages pending this long (XAUTOCLAIM). Default 30000. */
  claimIdleMs?: number;
  /** Messages per read. Default 100. */
  count?: number;
  /** How long one blocking read waits. Default 2000. */
  blockMs?: number;
  /** Aborting ends the iterator; the loop throws NexaAbortError. */
  signal?: AbortSignal;
}

export interface ConsumerStats {
  /** Messages and 'trimmed' gap items handed out. */
  delivered: number;
  acknowledged: number;
  /** Messages claimed from other consumers of the group. */
  claimed: number;
  /** Entries without a relay's `event` field (written by something else): acknowledged and skipped. */
  skipped: number;
  /** Pending messages trimmed before they were handled, reported by this consumer in 'trimmed' gap items. */
  trimmed: number;
  redisErrors: number;
  /** The group's messages delivered and not acknowledged (null once closed). */
  pending: number | null;
  /** The group's entries not yet delivered (null once closed). */
  lag: number | null;
}

export declare class Consumer<T = Record<string, unknown>> implements AsyncIterableIterator<RelayedItem<T>> {
  readonly stream: string;
  readonly group: string;
  readonly name: string;
  /** The stream id of the item last yielded. */
  readonly lastId: string | null;
  next(): Promise<IteratorResult<RelayedItem<T>, undefined>>;
  return(): Promise<IteratorResult<RelayedItem<T>, undefined>>;
  [Symbol.asyncIterator](): this;
  /** Acknowledges the item last yielded now (otherwise when the loop asks for the next). */
  ack(): void;
  stats(): Promise<ConsumerStats>;
  close(): Promise<void>;
}

export declare function consume<T = Record<string, unknown>>(options: ConsumeOptions): Consumer<T>;

/** The Redis Streams sink: the Sink's methods (merged from the interface below). */
export declare class RedisSink {
  constructor(options: { redis: RedisGiven; dedupWindowMs: number; maxLen?: number; retention?: number; stateKey: string; onError?: (err: Error) => void });
}
export interface RedisSink extends Sink {}
