import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error with the HTTP status to answer it with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 64 * 1024;

export function sendJson(res: ServerResponse, status: number, value: unknown): true {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
  return true;
}

export function sendHtml(res: ServerResponse, html: string): true {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(html);
  return true;
}

/** The request's JSON object body (or the one a host framework parsed already). */
export async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const preparsed = (req as { body?: unknown }).body;
  if (preparsed && typeof preparsed === 'object') return preparsed as Record<string, unknown>;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpError(400, 'request body must be a JSON object');
}

export function intParam(params: URLSearchParams, key: string, fallback: number, min: number): number {
  const text = params.get(key);
  if (text === null || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new HttpError(400, `${key} must be an integer >= ${min}`);
  return n;
}
