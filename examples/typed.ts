// A typed consumer of nexaclient: change events narrow on operationType and
// carry the document type. Checked by `tsc --noEmit` in `npm test`.
import NexaClient, { NexaError, NexaNotFoundError, type ChangeEvent, type GapItem, type CatchUpItem } from 'nexaclient';

interface Order {
  customer: string;
  total: number;
  status: 'pending' | 'shipped' | 'cancelled';
  tracking?: string;
}

function describe(change: ChangeEvent<Order>): string {
  switch (change.operationType) {
    case 'insert':
      // fullDocument is an Order plus the server's fields
      return `${change.documentKey._id}: ${change.fullDocument.customer} ${change.fullDocument.total.toFixed(2)}`;
    case 'update':
      return `${change.documentKey._id} -> ${String(change.updateDescription.updatedFields.status)}`;
    case 'delete':
      // @ts-expect-error a delete event has no fullDocument
      void change.fullDocument;
      return `${change.documentKey._id} deleted`;
    case 'dropCollection':
      // @ts-expect-error dropCollection has no documentKey
      void change.documentKey;
      return `${change.ns.coll} dropped`;
  }
}

export async function main(): Promise<void> {
  const client = new NexaClient({ host: 'localhost', port: 6970, int64: 'auto', requestTimeout: 5000 });
  const fromUrl = new NexaClient('nexadb://root:nexadb123@localhost:6970/tenant_acme');
  await client.connect();
  const stream = client.watch<Order>('orders', { operations: ['insert', 'update', 'delete'] });
  await stream.ready;
  const created = await client.create('orders', { customer: 'Alice', total: 9.5, status: 'pending' }, { database: 'tenant_acme' });
  const order = await client.get<Order>('orders', created.document_id);
  if (order) console.log(order.customer, order._id);
  const pending: Array<Order & { _id: string }> = await client.query<Order>('orders', { status: 'pending' }, { limit: 10 });
  console.log(pending.length);
  const ac = new AbortController();
  await client.ping({ signal: ac.signal, timeout: 1000 });
  const near = await client.vectorSearch('docs', [0.1, 0.2], { limit: 3, dimensions: 2 });
  console.log(near.map((r) => r.similarity));
  try {
    await client.update('orders', 'missing', { status: 'shipped' });
  } catch (err) {
    if (err instanceof NexaNotFoundError) console.log(err.code, err.collection);
    else if (err instanceof NexaError) console.log(err.code);
  }
  stream.on('reconnect', ({ attempts, downtimeMs }) => console.log(`back after ${attempts} attempts, ${downtimeMs} ms down`));
  const bounded = client.watch<Order>('orders', { overflow: 'dropOldest', highWaterMark: 100, signal: ac.signal });
  bounded.on('overflow', ({ dropped }) => console.log(dropped));
  bounded.stream().on("data", (change: ChangeEvent<Order>) => console.log(describe(change)));
  for await (const change of stream) {
    console.log(describe(change));
    // @ts-expect-error a stream without gaps or catchUp yields change events only
    if (change.operationType === 'gap') break;
    break;
  }
  // With gaps, the loop sees where changes were missed; with catchUp, what changed meanwhile.
  for await (const item of client.watch<Order>('orders', { catchUp: true })) {
    if (item.operationType === 'gap') {
      const gap: GapItem = item;
      console.log(`missed ${gap.since}..${gap.until} (${gap.reason})`);
    } else if (item.operationType === 'catchUp') {
      const doc: CatchUpItem<Order> = item;
      console.log(doc.fullDocument.customer);
      // @ts-expect-error a catchUp item has no timestamp
      void item.timestamp;
    } else {
      console.log(describe(item));
    }
    break;
  }
  for await (const item of client.watch('orders', { gaps: true })) {
    // @ts-expect-error gaps alone yields no catchUp items
    if (item.operationType === 'catchUp') break;
    if (item.operationType === 'gap' && item.reason === 'dropOldest') console.log(item.count);
    break;
  }
  console.log(stream.lastTimestamp?.toFixed(3));
  // Observability: client events, status and stats.
  client.on('disconnect', ({ error }) => console.log(error ? error.code : 'closed'));
  client.on('reconnect', ({ attempts }) => console.log(attempts));
  const health: 'connecting' | 'open' | 'reconnecting' | 'closed' = client.status;
  const { requests, streams } = client.stats();
  const lag: number | null = stream.stats().lag;
  console.log(health, requests.failed.NEXA_TIMEOUT ?? 0, requests.inFlight, streams.length, lag);
  // @ts-expect-error lag is null until the first event
  const lagMs: number = stream.stats().lag;
  void lagMs;
  await client.disconnect();
  await fromUrl.disconnect();
}
