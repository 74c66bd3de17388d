import { afterEach, describe, expect, it } from "vitest";
import { healthCheckSchema } from "../../../src/config/pipeline-schema.js";
import { HealthChecker, type HealthListener } from "../../../src/pipeline/routing/health-checker.js";
import type { ProviderError } from "../../../src/providers/provider-error.js";
import { RouteFakeProvider } from "./route-fake-provider.js";
import { useRouteEmulator } from "./route-emulator.js";
import { routeMember, routeOver } from "./route-members.js";

const harness = useRouteEmulator();
const checkers: HealthChecker[] = [];
afterEach(() => {
  for (const checker of checkers.splice(0)) checker.stop();
});

interface Report {
  provider: string;
  status: string;
  kind: string | undefined;
}

function checkerOf(entries: ConstructorParameters<typeof HealthChecker>[0]): {
  checker: HealthChecker;
  reports: Report[];
} {
  const reports: Report[] = [];
  const listener: HealthListener = (provider, status, error: ProviderError | undefined) =>
    reports.push({ provider, status, kind: error?.kind });
  const checker = new HealthChecker(entries, listener);
  checkers.push(checker);
  return { checker, reports };
}

const check = (overrides: Partial<Parameters<typeof healthCheckSchema.parse>[0]> = {}) =>
  healthCheckSchema.parse({ model: "gpt-probe", ...overrides });

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error("condition not reached");
}

describe("HealthChecker", () => {
  it("checks on its interval with a one-token chat, reporting failure and recovery", async () => {
    const { checker, reports } = checkerOf([
      { provider: harness.adapter("openai", "openai-main"), check: check({ intervalMs: 20 }) },
    ]);
    checker.start();
    await until(() => reports.length === 1);
    expect(reports).toEqual([{ provider: "openai-main", status: "healthy", kind: undefined }]);
    expect(harness.emulator().records[0]?.request.body).toMatchObject({ model: "gpt-probe", max_tokens: 1 });

    harness.emulator().setFault({ status: 500 });
    await until(() => reports.length === 2);
    expect(checker.stateOf("openai-main")).toMatchObject({
      status: "unhealthy",
      healthy: false,
      lastError: { kind: "unavailable" },
    });

    harness.emulator().setFault(undefined);
    await until(() => reports.length === 3);
    expect(reports.map((report) => `${report.status}:${report.kind ?? ""}`)).toEqual([
      "healthy:",
      "unhealthy:unavailable",
      "healthy:",
    ]);
    expect(checker.stateOf("openai-main").healthy).toBe(true);
  });

  it("fails a check that passes its timeout", async () => {
    harness.emulator().setFault({ hang: true });
    const { checker, reports } = checkerOf([
      { provider: harness.adapter("anthropic", "claude"), check: check({ timeoutMs: 50 }) },
    ]);
    await checker.checkNow();
    expect(reports).toEqual([{ provider: "claude", status: "unhealthy", kind: "timeout" }]);
    expect(checker.stateOf("claude").lastError?.message).toBe("claude: health check timed out after 50 ms");
  });

  it("takes a 429 as inconclusive", async () => {
    harness.emulator().setFault({ status: 429 });
    const { checker, reports } = checkerOf([{ provider: harness.adapter("openai", "openai-main"), check: check() }]);
    await checker.checkNow();
    expect(reports).toEqual([]);
    expect(checker.stateOf("openai-main")).toMatchObject({ status: "unknown", healthy: true });
  });

  it("stops: clears its timers and aborts the running checks", async () => {
    harness.emulator().setFault({ hang: true });
    const { checker, reports } = checkerOf([
      { provider: harness.adapter("openai", "openai-main"), check: check({ intervalMs: 10, timeoutMs: 5_000 }) },
    ]);
    checker.start();
    await until(() => harness.emulator().records.length === 1);
    checker.stop();
    const record = harness.emulator().records[0];
    await record?.done;
    expect(record?.aborted).toBe(true);
    harness.emulator().setFault(undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(harness.emulator().records).toHaveLength(1);
    expect(reports).toEqual([]);
  });

  it("does not keep the process alive between checks", async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === "Timeout").length;
    const provider = RouteFakeProvider.answering("fake");
    const { checker } = checkerOf([{ provider, check: check({ intervalMs: 60_000 }) }]);
    checker.start();
    await until(() => provider.calls.length === 1 && checker.stateOf("fake").status === "healthy");
    // Counted in one tick around stop(), which clears the pending check's timer: a ref'd timer would drop the count.
    const running = timers();
    checker.stop();
    expect(timers()).toBe(running);
  });

  it("makes routes skip a provider whose check fails", async () => {
    const sick = RouteFakeProvider.failing("sick", "unavailable");
    const { checker } = checkerOf([{ provider: sick, check: check() }]);
    const answering = RouteFakeProvider.answering("sick-target");
    const route = routeOver([
      routeMember(answering, { health: checker.stateOf("sick") }),
      routeMember(RouteFakeProvider.answering("well")),
    ]);
    expect(route.plan()[0]?.provider.name).toBe("sick-target");
    await checker.checkNow();
    expect(route.plan().map((member) => member.provider.name)).toEqual(["well", "sick-target"]);
    await route.chat({ model: "m", messages: [{ role: "user", content: "hi" }] }, new AbortController().signal);
    expect(answering.calls).toHaveLength(0);
  });
});
