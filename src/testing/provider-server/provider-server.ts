import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { anthropicFormat } from "./anthropic-format.ts";
import { openaiChatFormat } from "./openai-chat-format.ts";
import { openaiResponsesFormat } from "./openai-responses-format.ts";
import type { ScriptedReply } from "./scripted-reply.ts";
import type { RenderContext, SseEvent, WireApi, WireFormat } from "./wire-format.ts";
import { modelOf, toAnswer } from "./wire-format.ts";

/** One request as the server saw it. Credential header values are masked to their last 4 characters. */
export interface RecordedRequest {
  /** 1-based position among all requests this server received. */
  index: number;
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The parsed JSON body, or `undefined` when the body was not JSON. */
  body: unknown;
  rawBody: string;
  /** Which wire format the path belongs to, if any. */
  api: WireApi | undefined;
  stream: boolean;
  model: string | undefined;
  /** Set when the client went away before the answer was complete (e.g. an aborted fetch). */
  clientAborted: boolean;
}

export interface ProviderServerOptions {
  /** Answers served in order, one per request. */
  script?: ScriptedReply[];
  /**
   * Called for every request before the script is consulted; return a reply to answer with
   * it (the script is then left alone), or `undefined` to take the next scripted reply.
   */
  onRequest?: (request: RecordedRequest) => ScriptedReply | undefined | Promise<ScriptedReply | undefined>;
}

export interface ProviderServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Base URL for `createOpenAI({ baseURL })`, Azure and OpenAI-compatible providers. */
  openaiBaseURL: string;
  /** Base URL for `createAnthropic({ baseURL })`. */
  anthropicBaseURL: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  enqueue(...replies: ScriptedReply[]): void;
  /** How many scripted replies have not been served yet. */
  pending(): number;
  close(): Promise<void>;
}

const formats: Record<WireApi, WireFormat> = {
  "openai-chat": openaiChatFormat,
  "openai-responses": openaiResponsesFormat,
  "anthropic-messages": anthropicFormat,
};

const credentialHeaders = new Set(["authorization", "x-api-key", "api-key", "x-goog-api-key"]);

/**
 * Starts an HTTP server on 127.0.0.1 (a free port) that speaks the OpenAI Chat Completions,
 * OpenAI Responses and Anthropic Messages wire formats, answering from a script.
 *
 * When the script is exhausted the server answers 500 with a body saying so (and
 * `retry-after-ms: 0`, so an SDK's retries fail fast instead of backing off).
 *
 * @example
 * const server = await startProviderServer({ script: [reply.text("Hello")] });
 * const openai = createOpenAI({ baseURL: server.openaiBaseURL, apiKey: "test" });
 * const { text } = await generateText({ model: openai("gpt-4.1-mini"), prompt: "Hi" });
 * await server.close();
 */
export async function startProviderServer(options: ProviderServerOptions = {}): Promise<ProviderServer> {
  const queue: ScriptedReply[] = [...(options.script ?? [])];
  const requests: RecordedRequest[] = [];
  let ids = 0;
  const context: RenderContext = {
    nextId: (prefix) => `${prefix}_${++ids}`,
    get created() {
      return Math.floor(Date.now() / 1000);
    },
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`provider-server internal error: ${String(error)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = await record(req, requests.length + 1);
    requests.push(request);
    const clientGone = new AbortController();
    let cutByServer = false;
    res.on("close", () => {
      if (!res.writableFinished && !cutByServer) {
        request.clientAborted = true;
        clientGone.abort();
      }
    });

    const next = (await options.onRequest?.(request)) ?? queue.shift();
    if (next === undefined) return exhausted(res, request);
    if (next.delayMs !== undefined && !(await wait(next.delayMs, clientGone.signal))) return;

    const format = request.api === undefined ? undefined : formats[request.api];
    if (next.type === "raw") {
      res.writeHead(next.status ?? 200, { "content-type": "application/json", ...next.headers });
      res.end(next.body);
      return;
    }
    if (next.type === "http-error") {
      const message = next.message ?? `scripted HTTP ${next.status}`;
      const headers: Record<string, string> = { "content-type": "application/json", ...next.headers };
      if (next.retryAfter !== undefined) headers["retry-after"] = String(next.retryAfter);
      res.writeHead(next.status, headers);
      res.end(JSON.stringify(format?.errorBody(next.status, message) ?? { error: { message } }));
      return;
    }
    if (format === undefined) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          error: {
            message: `provider-server does not speak ${request.method} ${request.path}; script a raw reply for it`,
          },
        }),
      );
      return;
    }

    const answer = toAnswer(next, format, request.body, context);
    const extra = next.headers ?? {};
    if (next.fault === "wrong-content-type") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", ...extra });
      res.end("<html><body><h1>Service temporarily unavailable</h1></body></html>");
      return;
    }
    if (!request.stream) {
      const body = JSON.stringify(format.body(answer, context));
      if (next.fault === "malformed-json")
        return sendJson(res, `${body.slice(0, body.length >> 1)}<<not json`, extra);
      if (next.fault === "truncated") {
        cutByServer = true;
        return sendTruncated(res, body, extra);
      }
      return sendJson(res, body, extra);
    }

    const { content, finish } = format.events(answer, context);
    let events = [...content, ...finish];
    if (next.fault === "no-finish") events = content;
    if (next.fault === "truncated") events = content.slice(0, Math.max(1, content.length >> 1));
    if (next.fault === "malformed-json") events.splice(1, 0, { data: '{"type": <<not json' });
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...extra });
    res.flushHeaders();
    for (const event of events) {
      if (next.chunkDelayMs !== undefined && !(await wait(next.chunkDelayMs, clientGone.signal))) return;
      if (clientGone.signal.aborted) return;
      res.write(sse(event));
    }
    if (next.fault !== "truncated") {
      res.end();
      return;
    }
    // Cut the connection without the chunked-encoding terminator, as a dropped proxy would.
    cutByServer = true;
    res.socket?.destroy();
  }

  function exhausted(res: ServerResponse, request: RecordedRequest): void {
    const message =
      `provider-server script exhausted: no scripted reply for request #${request.index} ` +
      `(${request.method} ${request.path}). Enqueue a reply or answer it in onRequest.`;
    const format = request.api === undefined ? undefined : formats[request.api];
    res.writeHead(500, {
      "content-type": "application/json",
      "retry-after-ms": "0",
      "x-provider-server": "script-exhausted",
    });
    res.end(JSON.stringify(format?.errorBody(500, message) ?? { error: { message } }));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openaiBaseURL: `${url}/v1`,
    anthropicBaseURL: `${url}/v1`,
    requests,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    pending: () => queue.length,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function record(req: IncomingMessage, index: number): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const rawBody = Buffer.concat(chunks).toString("utf8");
  let body: unknown;
  try {
    body = rawBody === "" ? undefined : JSON.parse(rawBody);
  } catch {
    body = undefined;
  }
  const target = new URL(req.url ?? "/", "http://127.0.0.1");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : value;
    headers[name] = credentialHeaders.has(name) ? mask(text) : text;
  }
  const stream = typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === true;
  return {
    index,
    method: req.method ?? "GET",
    path: target.pathname,
    query: Object.fromEntries(target.searchParams),
    headers,
    body,
    rawBody,
    api: apiOf(target.pathname),
    stream,
    model: modelOf(body),
    clientAborted: false,
  };
}

function apiOf(path: string): WireApi | undefined {
  if (path.endsWith("/chat/completions")) return "openai-chat";
  if (path.endsWith("/responses")) return "openai-responses";
  if (path.endsWith("/messages")) return "anthropic-messages";
  return undefined;
}

/** Keeps the scheme and the last 4 characters so tests can tell which key was sent. */
function mask(value: string): string {
  const [scheme, secret] = value.includes(" ") ? value.split(" ", 2) : [undefined, value];
  const tail = (secret ?? "").slice(-4);
  return `${scheme === undefined ? "" : `${scheme} `}****${tail}`;
}

function sse(event: SseEvent): string {
  return `${event.event === undefined ? "" : `event: ${event.event}\n`}data: ${event.data}\n\n`;
}

function sendJson(res: ServerResponse, body: string, headers: Record<string, string>): void {
  res.writeHead(200, { "content-type": "application/json", ...headers });
  res.end(body);
}

function sendTruncated(res: ServerResponse, body: string, headers: Record<string, string>): void {
  const length = String(Buffer.byteLength(body));
  res.writeHead(200, { "content-type": "application/json", "content-length": length, ...headers });
  res.write(body.slice(0, body.length >> 1), () => res.socket?.destroy());
}

/** Resolves `true` after `ms`, or `false` as soon as the client goes away. */
async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
