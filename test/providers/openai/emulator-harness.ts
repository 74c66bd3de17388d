import { afterAll, beforeAll, beforeEach } from "vitest";
import type { ProviderConfigInput } from "../../../src/config/config-schema.js";
import { startEmulator, type Emulator, type EmulatorRecord } from "../../../src/emulator/emulator.js";
import type { Provider } from "../../../src/providers/provider.js";
import type { OpenAIFamilyMember } from "./openai-family-member.js";
import { openAITestConfig, testApiKey } from "./openai-test-config.js";

/** One emulator for a describe block, and adapters of one family member pointing at it. */
export interface EmulatorHarness {
  emulator(): Emulator;
  provider(overrides?: Partial<ProviderConfigInput>): Provider;
  /** The first exchange of the test, once the emulator has received it. */
  firstRecord(): Promise<EmulatorRecord>;
}

/**
 * Registers hooks that start an emulator accepting only the test key before the block, clear its
 * records, rate limiters and fault before each test, and close it after the block.
 */
export function useEmulatorHarness(member: OpenAIFamilyMember): EmulatorHarness {
  let running: Emulator | undefined;
  const emulator = (): Emulator => {
    if (!running) throw new Error("the emulator is not running");
    return running;
  };
  beforeAll(async () => {
    running = await startEmulator({ apiKey: testApiKey });
  });
  afterAll(async () => {
    await running?.close();
  });
  beforeEach(() => {
    emulator().reset();
    emulator().setFault(undefined);
  });
  return {
    emulator,
    provider: (overrides = {}) =>
      member.create(openAITestConfig(member.type, member.baseUrl(emulator().url), overrides)),
    async firstRecord() {
      while (emulator().records.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      const [record] = emulator().records;
      if (!record) throw new Error("no record");
      return record;
    },
  };
}
