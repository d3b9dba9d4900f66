import { isIpLiteral, judgeAddress } from './address-policy';

describe(judgeAddress.name, () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.100.100.200', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['192.0.0.192', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['168.63.129.16', 'cloudHost'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['[::1]', 'loopback'],
    ['ff02::1', 'multicast'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['2002:a00:1::', '6to4'],
    ['2001:0:4136:e378::1', 'teredo'],
    ['not-an-address', 'invalid'],
  ])('refuses %s (%s)', (address, range) => {
    expect(judgeAddress(address)).toMatchObject({ allowed: false, range });
  });

  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', '127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', '169.254.169.254', 'linkLocal'],
    ['[::ffff:10.0.0.1]', '10.0.0.1', 'private'],
  ])('judges the IPv4-mapped %s as %s', (address, ipv4, range) => {
    expect(judgeAddress(address)).toEqual({ allowed: false, address: ipv4, range });
  });

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows the public address %s', (address) => {
    expect(judgeAddress(address)).toMatchObject({ allowed: true, range: 'unicast' });
  });
});

describe(isIpLiteral.name, () => {
  it('recognises the hosts the URL parser leaves, with or without brackets', () => {
    expect(['127.0.0.1', '[::1]', '::1', new URL('https://0x7f.1/').hostname, new URL('https://2130706433/').hostname].map(isIpLiteral)).toEqual([true, true, true, true, true]);
    expect(['example.com', 'localhost', '127.0.0.1.nip.io'].map(isIpLiteral)).toEqual([false, false, false]);
  });
});
