import { isRecord } from "../../src/emulator/is-record.js";

/** One SSE frame: its `event:` (if any) and its `data:` text. */
export interface SseFrame {
  event: string | undefined;
  data: string;
}

/** Splits an SSE body into frames, checking the framing: every frame ends with a blank line. */
export function sseFrames(text: string): SseFrame[] {
  if (text === "") return [];
  if (!text.endsWith("\n\n"))
    throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(text.slice(-40))}`);
  return text
    .slice(0, -2)
    .split("\n\n")
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
        else throw new Error(`unexpected SSE line: ${JSON.stringify(line)}`);
      }
      return { event, data: data.join("\n") };
    });
}

/** The parsed JSON of a frame's data. */
export function frameJson(frame: SseFrame | undefined): Record<string, unknown> {
  if (frame === undefined) throw new Error("missing frame");
  const value: unknown = JSON.parse(frame.data);
  if (!isRecord(value)) throw new Error(`frame is not an object: ${frame.data}`);
  return value;
}

/** POSTs JSON (or a raw string) and returns the response. */
export function post(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
}

/** Polls until `condition` holds (a few ms at a time), failing after about two seconds. */
export async function until(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("condition not reached");
}

/** Reads a streamed body until its text so far satisfies `done`; returns that text. */
export async function readUntil(response: Response, done: (text: string) => boolean): Promise<string> {
  const body = response.body;
  if (body === null) throw new Error("no body");
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) throw new Error(`stream ended before the condition held: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}

/** Headers OpenAI clients send. */
export const openAiHeaders = { authorization: "Bearer sk-test-key" };
/** Headers Anthropic clients send. */
export const anthropicHeaders = { "x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01" };
/** Headers Azure clients send. */
export const azureHeaders = { "api-key": "azure-test-key" };
/** An Azure path with its api-version. */
export function azurePath(deployment: string, operation: string, apiVersion = "2024-10-21"): string {
  return `/openai/deployments/${deployment}/${operation}?api-version=${apiVersion}`;
}
