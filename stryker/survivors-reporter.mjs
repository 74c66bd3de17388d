// A Stryker reporter that appends each surviving or uncovered mutant to reports/mutation/survivors.jsonl as soon
// as it is tested, so triage can start while a long run is still going (the HTML and JSON reports are written
// only at the end). One JSON object per line: file, line, column, mutator, original text, replacement, status,
// and how many tests covered it.
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { PluginKind, declareClassPlugin } from "@stryker-mutator/api/plugin";

const out = "reports/mutation/survivors.jsonl";

class SurvivorsReporter {
  #sources = new Map();

  onMutantTested(result) {
    if (result.status !== "Survived" && result.status !== "NoCoverage") return;
    const { start, end } = result.location;
    let lines = this.#sources.get(result.fileName);
    if (lines === undefined) {
      lines = readFileSync(result.fileName, "utf8").split("\n");
      this.#sources.set(result.fileName, lines);
    }
    const original =
      start.line === end.line
        ? lines[start.line - 1].slice(start.column - 1, end.column - 1)
        : `${lines[start.line - 1].slice(start.column - 1)} …`;
    mkdirSync("reports/mutation", { recursive: true });
    const row = {
      file: result.fileName.replace(`${process.cwd()}/`, ""),
      line: start.line,
      column: start.column,
      mutator: result.mutatorName,
      original: original.slice(0, 120),
      replacement: (result.replacement ?? "").slice(0, 120),
      status: result.status,
      coveredBy: result.coveredBy?.length ?? 0,
    };
    appendFileSync(out, `${JSON.stringify(row)}\n`);
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, "survivors", SurvivorsReporter)];
