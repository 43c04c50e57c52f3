import { createServer } from 'node:net';

/**
 * Asks the kernel for an unused loopback port. Another process can take it before the caller
 * binds it, so the service starters retry on "address already in use" when they picked the port.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => {
        if (port === undefined) reject(new Error('freePort: the kernel returned no port'));
        else resolve(port);
      });
    });
  });
}
