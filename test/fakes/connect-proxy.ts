import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';

// A forward proxy as a self-hosted runner's network has one: HTTP CONNECT tunnels (RFC 9110 9.3.6), recording
// every target it was asked for. It tunnels to loopback addresses only and refuses anything else with 403.

export class ConnectProxy {
  /** host:port of every CONNECT, in order */
  readonly targets: string[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the proxy is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((_req, res) => {
      res.writeHead(405).end('CONNECT only\n');
    });
    server.on('connect', (req, socket, head) => {
      const target = req.url ?? '';
      this.targets.push(target);
      const match = /^(127\.0\.0\.1|localhost|\[::1\]):(\d+)$/.exec(target);
      if (!match) {
        socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      const upstream = connect(Number(match[2]), '127.0.0.1', () => {
        this.sockets.add(socket as Socket);
        this.sockets.add(upstream);
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    // tunnels are no longer HTTP connections: closeAllConnections does not end them
    for (const socket of this.sockets) socket.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
