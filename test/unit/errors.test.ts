import { describe, expect, it } from '@jest/globals';
import { errorText, redactUrls } from '../../src/support/errors.js';

describe('error texts', () => {
  it('cut every URL to its scheme, host and port: keys in paths, queries and user parts go', () => {
    expect(redactUrls('disconnected from wss://rpc.example.org:443/v1/secret-key-1: 1006:: Abnormal')).toBe(
      'disconnected from wss://rpc.example.org:443: 1006:: Abnormal',
    );
    expect(redactUrls('GET https://api.example/x?apikey=secret-2 failed')).toBe(
      'GET https://api.example failed',
    );
    expect(redactUrls('smtp://user:secret-3@mail.example:587 refused')).toBe(
      'smtp://mail.example:587 refused',
    );
    expect(errorText(new Error('ws://127.0.0.1:9944/secret-4 closed'))).toBe('ws://127.0.0.1:9944 closed');
    expect(redactUrls('no address here')).toBe('no address here');
  });
});
