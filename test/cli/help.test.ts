import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** Issue "The first hour": every command answers --help (and the bin --version) without starting anything. */

const bin = fileURLToPath(new URL("../../bin/llm-gateway.js", import.meta.url));
const version = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 10_000 });
  return { code: result.status, signal: result.signal, out: result.stdout, err: result.stderr };
}

describe("llm-gateway --help and --version", () => {
  it.each([["--help"], ["-h"], ["help"], ["serve", "--help"], ["emulator", "--help"], ["demo", "--help"]])(
    "%s %s prints the usage and exits 0 without starting anything",
    (...args: string[]) => {
      const result = run(...args);
      expect(result.signal, "it was still running after 10 s").toBeNull();
      expect(result.code).toBe(0);
      expect(result.out).toContain("llm-gateway serve --config FILE");
      expect(result.out).not.toContain("listening");
    },
  );

  it.each([
    ["keys", "--help"],
    ["usage", "--help"],
  ])("%s %s prints that command's usage and exits 0", (...args) => {
    const result = run(...args);
    expect(result.code).toBe(0);
    expect(`${result.out}${result.err}`).toContain(`llm-gateway ${args[0]}`);
  });

  it.each([["--version"], ["-v"], ["version"]])("%s prints the package version and exits 0", (flag) => {
    const result = run(flag);
    expect(result.code).toBe(0);
    expect(result.out.trim()).toBe(`llm-gateway ${version}`);
  });

  it("exits 2 with the usage on an unknown option or command", () => {
    for (const args of [["serve", "--nope"], ["launch"]]) {
      const result = run(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.err, args.join(" ")).toContain("usage:");
    }
  });
});
