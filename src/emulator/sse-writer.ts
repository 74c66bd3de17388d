import { streamErrorFrame } from "./error-bodies.js";
import type { Exchange } from "./exchange.js";
import type { Fault } from "./fault.js";

/** A whole stream, pre-rendered as SSE frames (each ending in a blank line). */
export interface StreamScript {
  /** Frames sent with the headers, before any content (OpenAI role chunk; Anthropic message_start...). */
  head: string;
  /** One frame per content chunk, one token each. */
  content: readonly string[];
  /** The closing frames (finish chunk, usage, `[DONE]`; Anthropic content_block_stop...message_stop). */
  tail: string;
}

type CutAction = "drop" | "error" | "truncate";

interface Cut {
  at: number;
  action: CutAction;
}

/** The earliest after-N-chunks fault, clamped to the content length (ties: drop, then error, then truncate). */
function pickCut(fault: Fault, contentLength: number): Cut | undefined {
  let cut: Cut | undefined;
  const consider = (count: number | undefined, action: CutAction): void => {
    if (count === undefined) return;
    const at = Math.min(Math.floor(count), contentLength);
    if (cut === undefined || at < cut.at) cut = { at, action };
  };
  consider(fault.dropAfterChunks, "drop");
  consider(fault.errorAfterChunks, "error");
  consider(fault.truncateAfterChunks, "truncate");
  return cut;
}

/**
 * Plays a stream: headers and head frames at once, then after `ttftMs` the content chunks with `chunkDelayMs`
 * between chunks (the closing frames count as a chunk), each written, and so flushed, on its own. A
 * drop/error/truncate fault replaces everything from its chunk on. Without delays the whole stream is
 * written synchronously.
 */
export function writeSseStream(
  exchange: Exchange,
  script: StreamScript,
  fault: Fault,
  defaultChunkDelayMs: number,
): void {
  const chunkDelayMs = fault.chunkDelayMs ?? defaultChunkDelayMs;
  const cut = pickCut(fault, script.content.length);
  exchange.beginStream(script.head);

  const run = (start: number, waited: boolean): void => {
    let pendingWait = !waited;
    for (let index = start; ; index++) {
      if (exchange.closed) return;
      if (index > 0 && chunkDelayMs > 0 && pendingWait) {
        exchange.schedule(chunkDelayMs, () => run(index, true));
        return;
      }
      pendingWait = true;
      if (cut !== undefined && index === cut.at) {
        applyCut(exchange, cut.action);
        return;
      }
      const frame = script.content[index];
      if (frame === undefined) {
        exchange.write(script.tail);
        exchange.end();
        return;
      }
      exchange.writeChunk(frame);
    }
  };

  const ttftMs = fault.ttftMs ?? 0;
  if (ttftMs > 0) exchange.schedule(ttftMs, () => run(0, false));
  else run(0, false);
}

function applyCut(exchange: Exchange, action: CutAction): void {
  if (action === "drop") {
    exchange.drop();
    return;
  }
  if (action === "error") exchange.write(streamErrorFrame(exchange.request.api));
  exchange.end();
}
