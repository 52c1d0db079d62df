import { createInterface } from 'node:readline';

/**
 * Lines the runtime sends a waiting stage process on stdin: a spare process first gets its arguments
 * (one JSON line), then every held process gets "go". Null once stdin is closed (the runtime let go).
 */
const queue: string[] = [];
const waiting: Array<(line: string | null) => void> = [];
let closed = false;
let started = false;

function start(): void {
  started = true;
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const next = waiting.shift();
    if (next) next(line);
    else queue.push(line);
  });
  rl.once('close', () => {
    closed = true;
    for (const w of waiting.splice(0)) w(null);
  });
}

export function nextStdinLine(): Promise<string | null> {
  if (!started) start();
  if (queue.length > 0) return Promise.resolve(queue.shift()!);
  if (closed) return Promise.resolve(null);
  return new Promise((resolve) => waiting.push(resolve));
}

