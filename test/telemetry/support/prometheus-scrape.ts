/** One sample line of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** A scraped exposition: its raw text and its samples. */
export class Scrape {
  readonly samples: Sample[];

  constructor(readonly text: string) {
    this.samples = text.split("\n").flatMap((line) => {
      if (line.startsWith("#") || line.trim() === "") return [];
      const match = sampleLine.exec(line);
      if (match === null) return [];
      const [, name = "", labelText = "", value = ""] = match;
      const labels = Object.fromEntries(
        [...labelText.matchAll(labelPair)].map((m) => [m[1] ?? "", (m[2] ?? "").replace(/\\(.)/g, "$1")]),
      );
      return [{ name, labels, value: Number(value) }];
    });
  }

  static async of(url: string): Promise<Scrape> {
    const response = await fetch(url);
    if (response.status !== 200) throw new Error(`scrape of ${url} answered ${response.status}`);
    return new Scrape(await response.text());
  }

  /** The samples of metric `name` whose labels include `labels`. */
  all(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  /** The value of the one sample of `name` whose labels include `labels`; undefined when none; throws when several match. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.all(name, labels);
    if (found.length > 1)
      throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}: ${JSON.stringify(found)}`);
    return found[0]?.value;
  }
}
