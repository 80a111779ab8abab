import { spawn } from 'node:child_process';

/**
 * An SSE client in another process (Python: it can pin SO_RCVBUF before connecting, which turns off
 * the kernel's receive-buffer autotuning) that reads the response head and then stops reading until
 * `drain()`; then it reads to the end and reports what it got.
 */
export function startStalledReader(url: URL) {
  const script = `
import socket, sys, json
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((${JSON.stringify(url.hostname)}, ${Number(url.port)}))
s.sendall(b"GET ${url.pathname} HTTP/1.1\\r\\nHost: x\\r\\nAccept: text/event-stream\\r\\n\\r\\n")
s.recv(1)
print("connected", flush=True)
sys.stdin.readline()
n, done = 1, False
tail = b""
while True:
    try:
        b = s.recv(65536)
    except OSError:
        break
    if not b:
        break
    n += len(b)
    done = done or b"event: done" in tail + b
    tail = b[-16:]
print(json.dumps({"bytes": n, "done": done}), flush=True)
`;
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const lines: ((line: string) => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      lines.shift()?.(line);
    }
  });
  const nextLine = () => new Promise<string>((resolve) => lines.push(resolve));
  return {
    connected: nextLine(),
    async drain(): Promise<{ bytes: number; sawDone: boolean }> {
      const result = nextLine();
      child.stdin.end('go\n');
      const parsed = JSON.parse(await result) as { bytes: number; done: boolean };
      return { bytes: parsed.bytes, sawDone: parsed.done };
    },
  };
}

/** One value of a Prometheus text exposition. */
export const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

/**
 * An SSE client in another process that reads steadily but not fast: `chunkBytes` every `intervalMs`
 * from a socket whose receive buffer is pinned to `chunkBytes` (about what a browser on a real
 * network takes; loopback would otherwise absorb megabytes in kernel buffers). Resolves when the
 * server ends the stream, with what arrived.
 */
export function readPaced(
  url: URL,
  options: { chunkBytes: number; intervalMs: number },
): Promise<{ bytes: number; sawDone: boolean; endedCleanly: boolean }> {
  const script = `
import socket, json, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, ${options.chunkBytes})
s.connect((${JSON.stringify(url.hostname)}, ${Number(url.port)}))
s.sendall(b"GET ${url.pathname} HTTP/1.1\\r\\nHost: x\\r\\nAccept: text/event-stream\\r\\n\\r\\n")
n, done, clean, tail = 0, False, True, b""
while True:
    try:
        b = s.recv(${options.chunkBytes})
    except OSError:
        clean = False
        break
    if not b:
        break
    n += len(b)
    done = done or b"event: done" in tail + b
    tail = b[-16:]
    time.sleep(${options.intervalMs / 1000})
print(json.dumps({"bytes": n, "done": done, "clean": clean}), flush=True)
`;
  const child = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      try {
        const parsed = JSON.parse(out) as { bytes: number; done: boolean; clean: boolean };
        resolve({ bytes: parsed.bytes, sawDone: parsed.done, endedCleanly: parsed.clean });
      } catch {
        reject(new Error(`paced reader exited ${code}: ${out}`));
      }
    });
  });
}
