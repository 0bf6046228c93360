/**
 * Who a try is counted for: an IPv4 address as itself, an IPv6 address by its /64 (one subscriber
 * holds all of it), however the address is spelled.
 */
import { describe, expect, it } from '@jest/globals';
import { clientOf } from '../../src/registrar/throttle.js';

describe('clientOf', () => {
  it('counts every address of one IPv6 /64 as one client, however it is spelled', () => {
    const network = clientOf('2001:db8:1:2::1');
    for (const address of [
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0db8:0001:0002:0:0:0:9',
      '2001:DB8:1:2::a',
    ]) {
      expect(clientOf(address)).toBe(network);
    }
    expect(clientOf('2001:db8:1:3::1')).not.toBe(network);
    expect(clientOf('2001:db8::')).toBe(clientOf('2001:db8:0:0:1::'));
    expect(clientOf('64:ff9b::1.2.3.4')).toBe('64:ff9b:0:0::/64');
  });

  it('counts an IPv4 address as itself, also written as IPv6', () => {
    expect(clientOf('192.0.2.7')).toBe('192.0.2.7');
    expect(clientOf('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientOf('192.0.2.8')).not.toBe(clientOf('192.0.2.7'));
  });
});
