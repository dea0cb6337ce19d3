// Type definitions for nexaclient.
/// <reference types="node" />

import { EventEmitter } from 'events';
import { Readable } from 'stream';

/** A document as the server stores it. */
export interface Document {
  _id: string;
  _created_at: string;
  _updated_at: string;
  [field: string]: unknown;
}

export type OperationType = 'insert' | 'update' | 'delete' | 'dropCollection';

interface ChangeEventBase {
  ns: { db: 'nexadb'; coll: string };
  /** Seconds since the epoch (float), taken when the change happened. */
  timestamp: number;
}

export interface InsertEvent<T = Record<string, unknown>> extends ChangeEventBase {
  operationType: 'insert';
  documentKey: { _id: string };
  fullDocument: T & Document;
}

export interface UpdateEvent<T = Record<string, unknown>> extends ChangeEventBase {
  operationType: 'update';
  documentKey: { _id: string };
  fullDocument: T & Document;
  updateDescription: { updatedFields: Partial<T> & Record<string, unknown> };
}

export interface DeleteEvent extends ChangeEventBase {
  operationType: 'delete';
  documentKey: { _id: string };
}

export interface DropCollectionEvent extends ChangeEventBase {
  operationType: 'dropCollection';
}

/** A change event, discriminated on `operationType`. */
export type ChangeEvent<T = Record<string, unknown>> =
  | InsertEvent<T>
  | UpdateEvent<T>
  | DeleteEvent
  | DropCollectionEvent;

/**
 * With `watch(coll, { gaps: true })` (or `catchUp`): yielded in order with
 * the events where changes were, or may have been, missed.
 */
export interface GapItem {
  operationType: 'gap';
  /** `coll` is null for a stream on every collection. */
  ns: { db: 'nexadb'; coll: string | null };
  /**
   * 'reconnect': the connection was lost; changes between `since` and `until` were not received.
   * 'dropOldest': `count` events were dropped under the 'dropOldest' policy.
   * 'undecodable': the server sent an event the client could not decode (`message` says why).
   */
  reason: 'reconnect' | 'dropOldest' | 'undecodable';
  /**
   * Epoch seconds. 'reconnect': the newest event's `timestamp` received
   * before the loss (the moment it was lost if none); 'dropOldest': the
   * oldest dropped event's timestamp; 'undecodable': the newest event's.
   */
  since: number;
  /** Epoch seconds: when the stream was subscribed again (client clock), the newest dropped event's timestamp, or when the undecodable event came. */
  until: number;
  /** 'dropOldest': how many events this item stands for. */
  count?: number;
  /** 'undecodable': why it could not be decoded. */
  message?: string;
  /** 'reconnect' with `catchUp`: how many catchUp items follow; `complete` false if a collection held 100,000 or more changed documents, or the read failed (`error`). */
  catchUp?: { documents: number; complete: boolean; error?: Error };
}

/**
 * With `watch(coll, { catchUp: true })`: a document the server says changed
 * during a reconnect gap (its `_updated_at`), yielded after the gap item and
 * before the new live events. It is the document as it is now; deletes
 * during a gap cannot be seen.
 */
export interface CatchUpItem<T = Record<string, unknown>> {
  operationType: 'catchUp';
  ns: { db: 'nexadb'; coll: string };
  documentKey: { _id: string };
  fullDocument: T & Document;
}

export interface NexaClientOptions {
  /** Default 'localhost'. */
  host?: string;
  /** Default 6970. */
  port?: number;
  /** Default 'root'. */
  username?: string;
  /** Default 'nexadb123'. */
  password?: string;
  /** Sent with every collection-level call; unset: the server's "default". */
  database?: string;
  /** Milliseconds for DNS, TCP connect and authentication; 0 = no limit. Default 10000. */
  connectTimeout?: number;
  /** Milliseconds for each request's answer; 0 = no limit. Default 30000. */
  requestTimeout?: number;
  /** Largest frame accepted from the server, in bytes. Default 64 MiB. */
  maxFrameBytes?: number;
  /**
   * How integers beyond 2^53 arrive: 'number' (rounded, default), 'bigint'
   * (a BigInt for every integer outside the 32-bit range), 'auto' (a BigInt
   * only where a Number would lose precision), 'string' (decimal text there).
   */
  int64?: 'number' | 'bigint' | 'auto' | 'string';
  /** Re-dial a lost connection, re-authenticate, re-subscribe every stream. Default true. */
  autoReconnect?: boolean;
  /** First backoff delay, doubled each attempt (with jitter). Default 100. */
  reconnectDelayMs?: number;
  /** Backoff cap. Default 5000. */
  reconnectMaxDelayMs?: number;
  /** Attempts before streams end with the last error. Default 30 (Infinity allowed). */
  reconnectAttempts?: number;
  /** PING after this long without a byte from the server; 0 = off. Default 30000. */
  keepAliveMs?: number;
  /** No byte within this after the PING: the connection is dead (ETIMEDOUT). Default 10000. */
  keepAliveTimeoutMs?: number;
  /** Default for every watch(): events held undelivered at most. Default 1000. */
  highWaterMark?: number;
  /** Default for every watch(): payload bytes held at most under 'pause'. Default 16 MiB. */
  highWaterMarkBytes?: number;
  /** Default for every watch(): what happens at the bound. Default 'pause'. */
  overflow?: OverflowPolicy;
  /** Default for every watch(): hold events this long and deliver them in timestamp order. Default 0 (off). */
  reorderWindowMs?: number;
}

/** 'pause': stop reading until the consumer catches up (nothing lost); 'error': end with NexaOverflowError; 'dropOldest': drop and count. */
export type OverflowPolicy = 'pause' | 'error' | 'dropOldest';

/** Options every request takes as its last argument. */
export interface CallOptions {
  /** The database of this call (default: the client's, else the server's "default"). */
  database?: string;
  /** Aborting rejects the request with NexaAbortError (code ABORT_ERR). */
  signal?: AbortSignal;
  /** Whole milliseconds up to 2147483647; overrides the client's requestTimeout (0 or Infinity: none). */
  timeout?: number;
}

export interface LimitOptions extends CallOptions {
  /** Default 100. */
  limit?: number;
}

export interface VectorSearchOptions extends CallOptions {
  /** Default 10. */
  limit?: number;
  /** Default 768: the query vector's length. */
  dimensions?: number;
  filters?: Filters;
}

export interface WatchOptions {
  /** Default ['insert', 'update', 'delete']; 'dropCollection' only when listed. */
  operations?: OperationType[];
  /** Aborting ends the stream (the loop throws NexaAbortError) and releases its connection. */
  signal?: AbortSignal;
  highWaterMark?: number;
  highWaterMarkBytes?: number;
  overflow?: OverflowPolicy;
  reorderWindowMs?: number;
  /** Yield a GapItem where changes were or may have been missed. Default false. */
  gaps?: boolean;
  /** After a reconnect gap, yield CatchUpItems for the documents changed since (implies gaps). Default false. */
  catchUp?: boolean;
}


export interface ReconnectInfo {
  /** Dial attempts it took. */
  attempts: number;
  /** How long the stream was without a subscription. Events of that time are not replayed. */
  downtimeMs: number;
}

/** stream.stats(): counters since the stream began. */
export interface StreamStats {
  /** Change events received from the server. */
  received: number;
  /** Items handed to the consumer (events, and gap/catchUp items). */
  delivered: number;
  /** Events dropped under the 'dropOldest' policy. */
  dropped: number;
  /** Items waiting in the buffer now. */
  buffered: number;
  /** Payload bytes of the events received (MessagePack, frame headers not counted). */
  bytes: number;
  reconnects: number;
  /** Gaps: reconnects, drops under 'dropOldest', undecodable events. */
  gaps: number;
  /** Under 'pause': times the socket stopped being read because the stream held its bound (highWaterMark or highWaterMarkBytes) unconsumed. */
  pauses: number;
  /** Now minus the newest delivered event's `timestamp`, in ms; null before the first. Grows while no events come. */
  lag: number | null;
}

/** The request connection's state. */
export type ClientStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** client.stats(): counters since the client was made. */
export interface ClientStats {
  status: ClientStatus;
  requests: {
    sent: number;
    /** Resolved with the server's answer. */
    answered: number;
    /** Failed, by error code (NEXA_SERVER, NEXA_NOT_FOUND, NEXA_TIMEOUT, ECONNREFUSED, ABORT_ERR, ...); get() of a missing key counts as NEXA_NOT_FOUND. */
    failed: Record<string, number>;
    inFlight: number;
  };
  /** Reconnects of the request connection. */
  reconnects: number;
  /** stats() of every open stream. */
  streams: StreamStats[];
}

/**
 * The context of the 'nexaclient:request' tracing channel (start, end,
 * asyncStart, asyncEnd, error). Never the password or a document.
 */
export interface RequestTraceContext {
  /** The method (create, get, query, ...) or 'subscribe' / 'unwatch' for a stream's SUBSCRIBE / UNSUBSCRIBE. */
  operation: string;
  collection?: string | null;
  key?: string;
  database?: string;
  /** host:port */
  address: string;
  /** Unique in the process. */
  requestId: number;
  /** On 'error' (and after it). */
  error?: NexaError | TypeError;
}

/** Messages of the nexaclient:stream:* and nexaclient:connection:* diagnostics channels. */
export interface StreamSubscribeMessage { stream: ChangeStream; collection: string | null; operations: OperationType[]; address: string; resubscribe: boolean }
export interface StreamDisconnectMessage { stream: ChangeStream; collection: string | null; address: string; error: NexaError }
export interface StreamReconnectMessage extends ReconnectInfo { stream: ChangeStream; collection: string | null; address: string }
export interface StreamGapMessage { stream: ChangeStream; collection: string | null; gap: GapItem }
/** error: null when the stream was closed on purpose. */
export interface StreamCloseMessage { stream: ChangeStream; collection: string | null; error: NexaError | null }
export interface ConnectionOpenMessage { connectionId: number; address: string; stream: boolean }
/** error: null when it was closed on purpose. */
export interface ConnectionCloseMessage { connectionId: number; address: string; stream: boolean; error: NexaError | null }

export interface SubscribeAnswer {
  subscribed: true;
  collection: string | null;
  operations: OperationType[];
  message: string;
}

/**
 * The events of one subscription, on a connection of its own. Consume it
 * one way: `for await` (or `next()`), `on('change')`, or the one Readable
 * `stream()` returns. The first way used fixes it; another throws a
 * TypeError naming both (`next()` rejects with it), and so does a second
 * `stream()`. `close()` and `return()` work whichever the way.
 */
export declare class ChangeStream<T = Record<string, unknown>, E = ChangeEvent<T>> extends EventEmitter implements AsyncIterableIterator<E> {
  readonly collection: string | null;
  readonly operations: OperationType[];
  /** True once the stream has ended. */
  readonly closed: boolean;
  /** Events decoded and not yet consumed. */
  readonly buffered: number;
  /** Events dropped under the 'dropOldest' policy. */
  readonly dropped: number;
  /** How many times it has reconnected. */
  readonly reconnects: number;
  /** The `timestamp` of the newest event delivered (epoch seconds); undefined before the first. */
  readonly lastTimestamp: number | undefined;
  /** Resolves when the server has acknowledged the subscription; rejects if it could not. */
  readonly ready: Promise<SubscribeAnswer>;
  /** The next item; rejects with a TypeError if the stream is consumed another way ('change' listeners, once added, or `stream()`). */
  next(): Promise<IteratorResult<E, undefined>>;
  /** Closes the stream (`break` in `for await` calls it). */
  return(): Promise<IteratorResult<E, undefined>>;
  /** UNSUBSCRIBE and close its connection, also mid-reconnect; pending next() calls resolve done. */
  close(): Promise<void>;
  /** Counters since the stream began, and the lag. */
  stats(): StreamStats;
  /**
   * A Readable in object mode that pulls events only as fast as it is read;
   * destroying it closes the stream. One per stream: throws a TypeError if
   * the stream is consumed another way (iterated, or 'change' listeners once
   * added), or on a second call.
   */
  stream(options?: { highWaterMark?: number }): Readable;
  [Symbol.asyncIterator](): this;
  [Symbol.asyncDispose](): Promise<void>;

  on(event: 'change', listener: (change: E) => void): this;
  /** Every gap, whether or not `gaps` puts it in-band. */
  on(event: 'gap', listener: (gap: GapItem) => void): this;
  on(event: 'disconnect', listener: (info: { error: NexaError }) => void): this;
  on(event: 'reconnect', listener: (info: ReconnectInfo) => void): this;
  on(event: 'overflow', listener: (info: { dropped: number; total: number }) => void): this;
  on(event: 'error', listener: (err: NexaError) => void): this;
  on(event: 'close', listener: () => void): this;
  once(event: 'change', listener: (change: E) => void): this;
  once(event: 'gap', listener: (gap: GapItem) => void): this;
  once(event: 'disconnect', listener: (info: { error: NexaError }) => void): this;
  once(event: 'reconnect', listener: (info: ReconnectInfo) => void): this;
  once(event: 'overflow', listener: (info: { dropped: number; total: number }) => void): this;
  once(event: 'error', listener: (err: NexaError) => void): this;
  once(event: 'close', listener: () => void): this;
}

export interface WriteAnswer {
  database: string;
  collection: string;
  document_id: string;
  message: string;
}

export interface BatchWriteAnswer {
  database: string;
  collection: string;
  document_ids: string[];
  count: number;
  message: string;
}

/** Mongo-style filters: a value means equality; operators $eq $ne $gt $gte $lt $lte $in $nin $exists $regex. */
export type Filters = Record<string, unknown>;

export interface VectorResult<T = Record<string, unknown>> {
  document_id: string;
  similarity: number;
  document: T & Document;
}

export interface ToonAnswer {
  database: string;
  collection: string;
  format: 'TOON';
  data: string;
  count: number;
  token_stats: { json_size: number; toon_size: number; reduction_percent: number; estimated_cost_savings?: string };
}

export interface ImportToonAnswer {
  database: string;
  collection: string;
  imported: number;
  replaced: boolean;
  document_ids: string[];
  message: string;
}

export interface UserInfo {
  role: string;
  api_key_prefix?: string;
  created_at?: number;
  last_login?: number | null;
  password_changed_at?: number | null;
  [field: string]: unknown;
}

export type Role = 'admin' | 'write' | 'read' | 'guest';

/**
 * Documents nest at most this many levels of objects and arrays (`{}` is one
 * level, `{ a: [1] }` two), written and read. Deeper ones are refused by
 * create / update / batchWrite with a TypeError before anything is sent; an
 * answer holding one (written by another client) rejects that request alone
 * with NexaProtocolError; a change event holding one is reported by its
 * stream as undecodable and the stream goes on.
 */
export declare const MAX_DEPTH: 100;

/**
 * Emits 'connect', 'disconnect' ({error}; null after disconnect()),
 * 'reconnect' ({attempts, downtimeMs}) for its request connection, and
 * 'error' once reconnecting failed for good, only when listened to.
 */
export declare class NexaClient extends EventEmitter {
  /** The documents' nesting limit: see {@link MAX_DEPTH}. */
  static readonly MAX_DEPTH: 100;
  /** An options object, or a connection string `nexadb://user:password@host:port/database?requestTimeout=5000`. */
  constructor(options?: NexaClientOptions | string, extra?: NexaClientOptions);
  readonly host: string;
  readonly port: number;
  readonly database: string | undefined;
  /** True while the request connection is open. */
  readonly connected: boolean;
  /** The request connection: 'connecting' | 'open' | 'reconnecting' | 'closed'. */
  readonly status: ClientStatus;
  /** Counters: requests, reconnects, and each open stream's stats(). */
  stats(): ClientStats;

  on(event: 'connect', listener: () => void): this;
  on(event: 'disconnect', listener: (info: { error: NexaError | null }) => void): this;
  on(event: 'reconnect', listener: (info: ReconnectInfo) => void): this;
  on(event: 'error', listener: (err: NexaError) => void): this;
  once(event: 'connect', listener: () => void): this;
  once(event: 'disconnect', listener: (info: { error: NexaError | null }) => void): this;
  once(event: 'reconnect', listener: (info: ReconnectInfo) => void): this;
  once(event: 'error', listener: (err: NexaError) => void): this;
  /** Opens and authenticates the request connection; idempotent. */
  connect(): Promise<void>;
  /** Ends every stream normally and closes every connection. */
  disconnect(): Promise<void>;
  /**
   * Watches changes (`null` or nothing: every collection). The stream yields
   * GapItem and CatchUpItem only where the options ask for them.
   */
  watch<T = Record<string, unknown>>(collection: string | null | undefined, options: WatchOptions & { catchUp: true }): ChangeStream<T, ChangeEvent<T> | GapItem | CatchUpItem<T>>;
  watch<T = Record<string, unknown>>(collection: string | null | undefined, options: WatchOptions & { gaps: true }): ChangeStream<T, ChangeEvent<T> | GapItem>;
  watch<T = Record<string, unknown>>(collection?: string | null, options?: (WatchOptions & { gaps?: false; catchUp?: false }) | OperationType[]): ChangeStream<T>;
  /** Options known only at run time: every kind of item. */
  watch<T = Record<string, unknown>>(collection: string | null | undefined, options: WatchOptions): ChangeStream<T, ChangeEvent<T> | GapItem | CatchUpItem<T>>;

  /** A document nested more than MAX_DEPTH levels rejects with TypeError, before anything is sent. */
  create(collection: string, data: Record<string, unknown>, options?: CallOptions): Promise<WriteAnswer>;
  /**
   * The document, or null when there is none. A document nested more than
   * MAX_DEPTH levels (written by another client) rejects with
   * NexaProtocolError; the connection and other requests are unaffected.
   */
  get<T = Record<string, unknown>>(collection: string, key: string, options?: CallOptions): Promise<(T & Document) | null>;
  /** Rejects with NexaNotFoundError for a missing key; `updates` nested more than MAX_DEPTH levels with TypeError. */
  update(collection: string, key: string, updates: Record<string, unknown>, options?: CallOptions): Promise<WriteAnswer>;
  /** Rejects with NexaNotFoundError for a missing key. */
  delete(collection: string, key: string, options?: CallOptions): Promise<WriteAnswer>;
  /** Documents matching `filters`; one nested more than MAX_DEPTH levels rejects the query with NexaProtocolError. */
  query<T = Record<string, unknown>>(collection: string, filters?: Filters, limit?: number | LimitOptions, options?: CallOptions): Promise<Array<T & Document>>;
  /** A document nested more than MAX_DEPTH levels rejects with TypeError, before anything is sent. */
  batchWrite(collection: string, documents: Array<Record<string, unknown>>, options?: CallOptions): Promise<BatchWriteAnswer>;
  vectorSearch<T = Record<string, unknown>>(collection: string, vector: number[], limit?: number | VectorSearchOptions, dimensions?: number | VectorSearchOptions, options?: VectorSearchOptions): Promise<Array<VectorResult<T>>>;
  ping(options?: CallOptions): Promise<{ status: 'ok'; timestamp: number }>;

  queryToon(collection: string, filters?: Filters, limit?: number | LimitOptions, options?: CallOptions): Promise<ToonAnswer>;
  exportToon(collection: string, options?: CallOptions): Promise<ToonAnswer & { token_stats: { estimated_cost_savings: string } }>;
  importToon(collection: string, toonData: string, options?: CallOptions & { replace?: boolean }): Promise<ImportToonAnswer>;

  listCollections(options?: CallOptions): Promise<string[]>;
  dropCollection(collection: string, options?: CallOptions): Promise<{ database: string; collection: string; message: string }>;
  createDatabase(name: string, options?: CallOptions): Promise<{ database: string; message: string }>;
  dropDatabase(name: string, options?: CallOptions): Promise<{ database: string; message: string }>;
  listDatabases(options?: CallOptions): Promise<string[]>;

  getVectors(options?: CallOptions): Promise<{ database: string; status: string; total_vectors: number; collections: Record<string, { count: number; dimensions?: number; documents: Array<{ doc_id: string; dimensions: number }> }> }>;
  buildHnswIndex(collection: string, options?: CallOptions & { M?: number; efConstruction?: number }): Promise<{ status: string; collection: string; database: string; num_vectors: number; message: string }>;

  createUser(username: string, password: string, role?: Role | CallOptions, options?: CallOptions): Promise<{ message: string; username: string; password: string; api_key: string; role: Role; note: string }>;
  deleteUser(username: string, options?: CallOptions): Promise<{ message: string }>;
  /** Name to user info. */
  listUsers(options?: CallOptions): Promise<Record<string, UserInfo>>;
  changePassword(username: string, newPassword: string, options?: CallOptions): Promise<{ message: string }>;

  /** `await using client = new NexaClient()` disconnects at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

export declare class NexaError extends Error {
  readonly code: string;
  /** host:port of the connection, where there is one. */
  readonly address?: string;
  /** The request's method name (create, query, ...), where there is one. */
  readonly operation?: string;
  /** The collection of the request, where there is one. */
  readonly collection?: string | null;
  /** The document key of the request, where there is one. */
  readonly key?: string;
  readonly database?: string;
}
export declare class NexaAuthError extends NexaError { readonly code: 'NEXA_AUTH'; }
export declare class NexaServerError extends NexaError { readonly code: 'NEXA_SERVER' | 'NEXA_NOT_FOUND'; }
export declare class NexaNotFoundError extends NexaServerError {
  readonly code: 'NEXA_NOT_FOUND';
  /** The server's own text ("Not found"). */
  readonly serverMessage: string;
}
/** A stream under the 'error' policy passed its highWaterMark. */
export declare class NexaOverflowError extends NexaError { readonly code: 'NEXA_OVERFLOW'; /** The stream's bound it went past. */ readonly highWaterMark: number; }
/** Aborted through an AbortSignal; `cause` is the signal's reason. `name` is 'AbortError'. */
export declare class NexaAbortError extends NexaError { readonly code: 'ABORT_ERR'; }
/** No answer within requestTimeout (or the call's timeout). */
export declare class NexaTimeoutError extends NexaError { readonly code: 'NEXA_TIMEOUT'; }
export declare class NexaClosedError extends NexaError { readonly code: 'NEXA_CLOSED'; }
/**
 * The server sent what the client cannot read. A broken frame closes that
 * connection; a well-framed answer that cannot be decoded (e.g. a document
 * deeper than MAX_DEPTH) rejects only its own request; a login answered with
 * neither SUCCESS nor ERROR fails the connection, with the server's `error`
 * text as the message when it sends one.
 */
export declare class NexaProtocolError extends NexaError { readonly code: 'NEXA_PROTOCOL'; }
/** A network failure; `code` is the system code (ECONNREFUSED, ECONNRESET, ENOTFOUND, ETIMEDOUT, ...). */
export declare class NexaConnectionError extends NexaError {}

export default NexaClient;
