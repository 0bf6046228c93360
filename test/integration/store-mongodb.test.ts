import { describe, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { MongoStore } from '../../src/store/mongodb.js';
import { storeContract } from '../contract/store.contract.js';

const uri = process.env.MONGODB_URI;

if (uri) {
  const database = `registrar_test_${process.pid}`;
  storeContract('MongoDB', {
    connect: () => MongoStore.connect(uri, database),
    reset: async () => {
      const client = await MongoClient.connect(uri);
      await client.db(database).dropDatabase();
      await client.close();
    },
  });
} else {
  process.stderr.write(
    'MongoDB store contract SKIPPED: MONGODB_URI is not set (no MongoDB server can be installed on this machine).\n',
  );
  describe('MongoDB store contract', () => {
    it.skip('runs only when MONGODB_URI points at a MongoDB server', () => {});
  });
}
