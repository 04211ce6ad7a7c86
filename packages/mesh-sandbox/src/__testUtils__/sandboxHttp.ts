import { demoToken } from '../fleet';
import { SandboxServer } from '../server';

/** A request to one cluster of a sandbox server, with its demo token unless told otherwise. */
export async function callCluster(
  server: SandboxServer,
  cluster: string,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; contentType?: string } = {},
): Promise<{ status: number; body: any }> {
  const token =
    options.token === undefined ? demoToken(cluster) : options.token;
  const res = await fetch(`${server.clusterUrl(cluster)}${path}`, {
    method,
    headers: {
      ...(token !== null ? { Authorization: `Bearer ${token}` } : {}),
      ...(options.body !== undefined
        ? { 'Content-Type': options.contentType ?? 'application/json' }
        : {}),
    },
    body:
      typeof options.body === 'string' || options.body === undefined
        ? options.body
        : JSON.stringify(options.body),
  });
  return { status: res.status, body: await res.json() };
}

export interface WatchEvent {
  type: string;
  object: any;
}

export interface OpenWatch {
  status: number;
  contentType: string | null;
  /** Every event received so far, in order. */
  events: WatchEvent[];
  /** Resolves with the events so far once `predicate` holds for them (polls every 5 ms). */
  until(
    predicate: (events: WatchEvent[]) => boolean,
    timeoutMs?: number,
  ): Promise<WatchEvent[]>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens a watch (`path` with its query, `watch=true` added) and collects its events. */
export async function openWatch(
  server: SandboxServer,
  cluster: string,
  path: string,
): Promise<OpenWatch> {
  const controller = new AbortController();
  const sep = path.includes('?') ? '&' : '?';
  const res = await fetch(
    `${server.clusterUrl(cluster)}${path}${sep}watch=true`,
    {
      headers: { Authorization: `Bearer ${demoToken(cluster)}` },
      signal: controller.signal,
    },
  );
  const events: WatchEvent[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const ended = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.trim()) events.push(JSON.parse(line));
          newline = buffer.indexOf('\n');
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    events,
    async until(predicate, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events)) {
        if (Date.now() > deadline) {
          throw new Error(
            `watch ${path}: condition not met within ${timeoutMs} ms; events: ${JSON.stringify(
              events.map(e => [e.type, e.object?.metadata?.name]),
            )}`,
          );
        }
        await new Promise(resolve => setTimeout(resolve, 5));
      }
      return [...events];
    },
    ended,
    close: () => controller.abort(),
  };
}
