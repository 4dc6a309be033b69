import { createSocket } from 'node:dgram';

/**
 * A DNS server on 127.0.0.1:53 that answers every query "no such name" (RFC 1035 4.1.1: QR=1, RCODE=3), so
 * that a host name fails to resolve the way an unknown one does, without a packet leaving the machine. A
 * process sees it once /etc/resolv.conf says `nameserver 127.0.0.1` (bind-mounted in a mount namespace).
 */
export async function nxdomainServer(): Promise<{ names: string[]; close: () => Promise<void> }> {
  const socket = createSocket('udp4');
  const names: string[] = [];
  socket.on('message', (query, from) => {
    if (query.length < 12) return;
    // the question: labels up to a zero byte, then QTYPE and QCLASS
    let at = 12;
    const labels: string[] = [];
    while (at < query.length && query[at] !== 0) {
      const length = query[at] ?? 0;
      labels.push(query.subarray(at + 1, at + 1 + length).toString('ascii'));
      at += length + 1;
    }
    const end = at + 5;
    if (end > query.length) return;
    names.push(labels.join('.'));
    const reply = Buffer.from(query.subarray(0, end));
    reply[2] = 0x80 | ((query[2] ?? 0) & 0x01); // a response, recursion desired copied
    reply[3] = 0x83; // recursion available, NXDOMAIN
    reply.writeUInt16BE(1, 4); // one question, no answer, authority or additional records
    reply.writeUInt16BE(0, 6);
    reply.writeUInt16BE(0, 8);
    reply.writeUInt16BE(0, 10);
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(53, '127.0.0.1', () => resolve());
  });
  return { names, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}
