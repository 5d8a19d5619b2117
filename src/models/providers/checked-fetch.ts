import { APICallError } from "@ai-sdk/provider";

type Fetch = typeof globalThis.fetch;

/**
 * Wraps `fetch` so that a successful response whose content type cannot be what was asked
 * for (an HTML page from a proxy, JSON where an event stream was requested) fails as a
 * retryable `APICallError` carrying the raw status, instead of reaching the provider's
 * parser: the AI SDK turns an OpenAI event stream answered with HTML into an empty,
 * error-free answer.
 */
export function checkedFetch(inner: Fetch = globalThis.fetch): Fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (!response.ok) return response;
    const contentType = response.headers.get("content-type")?.toLowerCase();
    if (contentType === undefined) return response;
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const expected = expectedContentType(url, init?.body);
    if (expected === undefined || contentType.includes(expected.match)) return response;

    const responseBody = await response.text().catch(() => "");
    throw new APICallError({
      message:
        `The model provider answered ${response.status} with content type "${contentType}" where ` +
        `${expected.label} was expected; a proxy or a wrong base URL is the usual cause.`,
      url,
      requestBodyValues: parseBody(init?.body),
      statusCode: response.status,
      responseHeaders: Object.fromEntries(response.headers),
      responseBody: responseBody.slice(0, 2000),
      isRetryable: true,
    });
  };
}

function expectedContentType(url: string, body: unknown): { match: string; label: string } | undefined {
  if (url.includes("/converse-stream") || url.includes("/invoke-with-response-stream")) {
    return { match: "application/vnd.amazon.eventstream", label: "an AWS event stream" };
  }
  if (url.includes("alt=sse") || asksToStream(body))
    return { match: "text/event-stream", label: "an event stream" };
  if (typeof body === "string") return { match: "json", label: "JSON" };
  return undefined;
}

function asksToStream(body: unknown): boolean {
  // The regular expression is a cheap filter; only the top-level `stream` flag counts.
  if (typeof body !== "string" || !/"stream"\s*:\s*true/.test(body)) return false;
  const parsed = parseBody(body);
  return typeof parsed === "object" && parsed !== null && (parsed as { stream?: unknown }).stream === true;
}

function parseBody(body: unknown): unknown {
  if (typeof body !== "string") return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
