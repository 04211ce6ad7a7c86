/**
 * The `backend:` section every bench backend runs with: its own port (so a running demo
 * is left alone), an in-memory database, and a static token for the bench's requests.
 */
export function benchBackendSection(port: number, token: string, subject: string) {
  return {
    baseUrl: `http://localhost:${port}`,
    listen: { port },
    cors: { origin: `http://localhost:${port}` },
    database: { client: 'better-sqlite3', connection: ':memory:' },
    auth: { externalAccess: [{ type: 'static', options: { token, subject } }] },
  };
}
