// Type definitions for nexaclient.

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

export interface NexaClientOptions {
  /** Default 'localhost'. */
  host?: string;
  /** Default 6970. */
  port?: number;
  /** Default 'root'. */
  username?: string;
  /** Default 'nexadb123'. */
  password?: string;
  /** Milliseconds for DNS, TCP connect and authentication; 0 = no limit. Default 10000. */
  connectTimeout?: number;
  /** Largest frame accepted from the server, in bytes. Default 64 MiB. */
  maxFrameBytes?: number;
  /**
   * How integers beyond 2^53 arrive: 'number' (rounded, default), 'bigint'
   * (a BigInt for every integer outside the 32-bit range), 'auto' (a BigInt
   * only where a Number would lose precision), 'string' (decimal text there).
   */
  int64?: 'number' | 'bigint' | 'auto' | 'string';
}

export interface WatchOptions {
  /** Default ['insert', 'update', 'delete']; 'dropCollection' only when listed. */
  operations?: OperationType[];
}

export interface SubscribeAnswer {
  subscribed: true;
  collection: string | null;
  operations: OperationType[];
  message: string;
}

/** The events of one subscription, on a connection of its own. */
export declare class ChangeStream<T = Record<string, unknown>> implements AsyncIterableIterator<ChangeEvent<T>> {
  readonly collection: string | null;
  readonly operations: OperationType[];
  /** True once the stream has ended. */
  readonly closed: boolean;
  /** Resolves when the server has acknowledged the subscription; rejects if it could not. */
  readonly ready: Promise<SubscribeAnswer>;
  next(): Promise<IteratorResult<ChangeEvent<T>, undefined>>;
  /** Closes the stream (`break` in `for await` calls it). */
  return(): Promise<IteratorResult<ChangeEvent<T>, undefined>>;
  /** UNSUBSCRIBE and close its connection; pending next() calls resolve done. */
  close(): Promise<void>;
  [Symbol.asyncIterator](): this;
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

export type Filters = Record<string, unknown>;

export declare class NexaClient {
  constructor(options?: NexaClientOptions);
  readonly host: string;
  readonly port: number;
  /** True while the request connection is open. */
  readonly connected: boolean;
  /** Opens and authenticates the request connection; idempotent. */
  connect(): Promise<void>;
  /** Ends every stream normally and closes every connection. */
  disconnect(): Promise<void>;
  watch<T = Record<string, unknown>>(collection?: string | null, options?: WatchOptions | OperationType[]): ChangeStream<T>;
  create(collection: string, data: Record<string, unknown>): Promise<WriteAnswer>;
  get<T = Record<string, unknown>>(collection: string, key: string): Promise<(T & Document) | null>;
  update(collection: string, key: string, updates: Record<string, unknown>): Promise<WriteAnswer>;
  delete(collection: string, key: string): Promise<WriteAnswer>;
  query<T = Record<string, unknown>>(collection: string, filters?: Filters, limit?: number): Promise<Array<T & Document>>;
  batchWrite(collection: string, documents: Array<Record<string, unknown>>): Promise<BatchWriteAnswer>;
  ping(): Promise<{ status: 'ok'; timestamp: number }>;
}

export declare class NexaError extends Error {
  readonly code: string;
  /** host:port of the connection, where there is one. */
  readonly address?: string;
  /** The collection of the request, where there is one. */
  readonly collection?: string | null;
}
export declare class NexaAuthError extends NexaError { readonly code: 'NEXA_AUTH'; }
export declare class NexaServerError extends NexaError { readonly code: 'NEXA_SERVER' | 'NEXA_NOT_FOUND'; }
export declare class NexaNotFoundError extends NexaServerError { readonly code: 'NEXA_NOT_FOUND'; }
export declare class NexaTimeoutError extends NexaError { readonly code: 'NEXA_TIMEOUT'; }
export declare class NexaClosedError extends NexaError { readonly code: 'NEXA_CLOSED'; }
export declare class NexaProtocolError extends NexaError { readonly code: 'NEXA_PROTOCOL'; }
/** A network failure; `code` is the system code (ECONNREFUSED, ECONNRESET, ENOTFOUND, ETIMEDOUT, ...). */
export declare class NexaConnectionError extends NexaError {}

export default NexaClient;
