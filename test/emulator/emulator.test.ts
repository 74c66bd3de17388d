import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { startEmulator } from "../../src/emulator/emulator.js";
import { openAiHeaders, post, readUntil, until } from "./emulator-test-helpers.js";

const chatBody = { model: "gpt-4o", messages: [{ role: "user", content: "a b c" }] };

describe("startEmulator", () => {
  it("listens on 127.0.0.1 on a free port and serves every API there", async () => {
    const emulator = await startEmulator();
    try {
      expect(emulator.port).toBeGreaterThan(0);
      expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`);
      const client = new OpenAI({ apiKey: "any-key", baseURL: `${emulator.url}/v1`, maxRetries: 0 });
      const completion = await client.chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "x" }],
      });
      expect(completion.choices[0]?.message.content).toBe("Echo: x");
    } finally {
      await emulator.close();
    }
  });

  it("applies a per-run fault object to every request until changed", async () => {
    const emulator = await startEmulator({ fault: { status: 529 } });
    try {
      expect((await post(`${emulator.url}/v1/chat/completions`, chatBody, openAiHeaders)).status).toBe(529);
      emulator.setFault({ errorCode: "insufficient_quota" });
      expect((await post(`${emulator.url}/v1/chat/completions`, chatBody, openAiHeaders)).status).toBe(429);
      emulator.setFault(undefined);
      expect((await post(`${emulator.url}/v1/chat/completions`, chatBody, openAiHeaders)).status).toBe(200);
    } finally {
      await emulator.close();
    }
  });

  it("uses the chunkDelayMs option between stream chunks", async () => {
    const emulator = await startEmulator({ chunkDelayMs: 60_000 });
    try {
      const controller = new AbortController();
      const response = await post(
        `${emulator.url}/v1/chat/completions`,
        { ...chatBody, stream: true },
        openAiHeaders,
        controller.signal,
      );
      await readUntil(response, (text) => text.includes('"content":"Echo:"'));
      expect(emulator.records[0]?.chunksSent).toBe(1);
      controller.abort();
    } finally {
      await emulator.close();
    }
  });

  it("keeps at most maxRecords records, dropping the oldest", async () => {
    const emulator = await startEmulator({ maxRecords: 2 });
    try {
      for (const model of ["m1", "m2", "m3"])
        await post(`${emulator.url}/v1/chat/completions`, { ...chatBody, model }, openAiHeaders);
      expect(emulator.records.map((record) => record.request.model)).toEqual(["m2", "m3"]);
      emulator.reset();
      expect(emulator.records).toHaveLength(0);
    } finally {
      await emulator.close();
    }
  });

  it("close() ends hung requests and idle connections", async () => {
    const emulator = await startEmulator();
    await post(`${emulator.url}/v1/chat/completions`, chatBody, openAiHeaders).then((response) => response.text());
    const hung = post(`${emulator.url}/v1/chat/completions`, chatBody, {
      ...openAiHeaders,
      "x-emulator-fault": "hang",
    }).catch((caught: unknown) => caught);
    await until(() => emulator.records.length === 2);
    await emulator.close();
    expect(await hung).toBeInstanceOf(Error);
    const record = emulator.records[1];
    await record?.done;
    expect(record).toMatchObject({ status: 0, aborted: false });
    await expect(fetch(`${emulator.url}/v1/models`, { headers: openAiHeaders })).rejects.toThrow();
  });
});
