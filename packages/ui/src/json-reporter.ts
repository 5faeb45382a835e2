import type { BuildEvent, Reporter } from "@rbuild/core";
import type { TextSink } from "./plain-reporter.js";

/** Every event as one JSON object per line, for machines (`--output json`). */
export class JsonReporter implements Reporter {
  readonly #sink: TextSink;

  constructor(sink: TextSink) {
    this.#sink = sink;
  }

  report(event: BuildEvent): void {
    this.#sink.write(`${JSON.stringify(event)}\n`);
  }
}
