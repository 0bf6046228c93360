import { TestChain } from './dist/dev/local-chain.js';
import { writeIdentities } from './dist/dev/storage-identities.js';

const chain = await TestChain.start({ mode: 'Instant' });
const n = 6000;
let t = Date.now();
await writeIdentities(chain, 0, { total: n, pending: 100, judged: 100 });
console.log('write', n, Date.now() - t);
t = Date.now();
const api = chain.api;
const at = await api.rpc.chain.getFinalizedHead();
const prefix = api.query.identity.identityOf.keyPrefix();
let startKey;
let listed = 0;
for (;;) {
  const t1 = Date.now();
  const keys = await api.rpc.state.getKeysPaged(prefix, 1000, startKey, at);
  const t2 = Date.now();
  if (!keys.length) break;
  await api.rpc.state.queryStorageAt(keys, at);
  console.log('page', t2 - t1, Date.now() - t2);
  listed += keys.length;
  if (keys.length < 1000) break;
  startKey = keys[keys.length - 1].toHex();
}
console.log('list', listed, Date.now() - t);
await chain.close();
process.exit(0);
