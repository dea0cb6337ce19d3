// Type-checked (npm test runs tsc on examples/): nexaclient/relay's types in use.
import { relay, consume, type Sink, type RelayedItem } from 'nexaclient/relay';
import NexaClient from 'nexaclient';

interface Order {
  customer: string;
  status: 'new' | 'shipped';
}

function describe(item: RelayedItem<Order>): string {
  switch (item.operationType) {
    case 'insert':
    case 'update':
      return `${item.operationType} ${item.documentKey._id} for ${item.fullDocument.customer}`;
    case 'delete':
      return `delete ${item.documentKey._id}`;
    case 'gap':
      return `gap (${item.reason}) from ${item.since} to ${item.until}${item.count === undefined ? '' : `, ${item.count} missing`}`;
    case 'catchUp':
      return `caught up ${item.documentKey._id}: ${item.fullDocument.status}`;
    default:
      return item.operationType;
  }
}

export async function main(): Promise<void> {
  const client = new NexaClient({ port: 6970 });
  const r = relay({ nexadb: client, redis: 'redis://127.0.0.1:6379', collection: 'orders', stream: 'shop:orders', retention: 86_400_000 });
  r.on('stall', ({ queued, stalledMs }) => console.log(`stalled ${stalledMs} ms with ${queued} queued`));
  await r.ready;
  const lag: number | null = r.stats().lagMs;

  const orders = consume<Order>({ redis: 'redis://127.0.0.1:6379', stream: 'shop:orders', group: 'mailer', from: new Date(Date.now() - 3_600_000) });
  for await (const item of orders) {
    console.log(describe(item), orders.lastId);
    orders.ack();
  }
  const { delivered, claimed, pending } = await orders.stats();
  console.log(lag, delivered, claimed, pending);

  // A sink of your own (another log than Redis) is any object of this shape.
  const memory: Sink = {
    async open() {},
    async append(entries) { return { appended: entries.length, duplicates: 0 }; },
    async putRecord() {},
    async records() { return new Map(); },
    async removeRecords() {},
    async close() {},
  };
  await relay({ nexadb: 'nexadb://root:nexadb123@localhost:6970', sink: memory }).close();
  await r.close();
}
