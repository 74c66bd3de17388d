/** Server-sent events in OpenAI's framing: one `data:` JSON line per event, then `data: [DONE]`. */
export function openAISse(events: unknown[], done = true): string {
  const lines = events.map((event) => `data: ${JSON.stringify(event)}\n\n`);
  return lines.join("") + (done ? "data: [DONE]\n\n" : "");
}

/** Server-sent events in Anthropic's framing: `event:` name, one `data:` JSON line, blank line. */
export function anthropicSse(events: Array<{ type: string } & Record<string, unknown>>): string {
  return events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join("");
}
