/** `rbuild-cache-server`: parse flags, start the server, stop gracefully on SIGTERM or SIGINT. */
import { parseArgs } from "node:util";
import { parseSize } from "@rbuild/core";
import { startCacheServer } from "./server.js";
import { loadTokens, type Scope } from "./tokens.js";

const USAGE = `Usage: rbuild-cache-server --dir DIR [options]

  --dir DIR             where blobs, entries and the index live (required)
  --host HOST           address to listen on (default 127.0.0.1)
  --port PORT           port to listen on; 0 picks a free one (default 8080)
  --max-size SIZE       keep the store under SIZE, evicting least recently used (default 10GB);
                        a blob larger than a quarter of SIZE is refused with 413
  --max-blob-size SIZE  refuse larger uploads with 413 (default and upper bound:
                        a quarter of --max-size)
  --tokens FILE         lines "<token> read|write"; without it the server is open
  -h, --help            show this help
`;

function fail(message: string): number {
  process.stderr.write(`rbuild-cache-server: ${message}\n${USAGE}`);
  return 2;
}

export async function main(argv: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        dir: { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "8080" },
        "max-size": { type: "string", default: "10GB" },
        "max-blob-size": { type: "string" },
        tokens: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    return fail((error as Error).message);
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.dir === undefined) return fail("--dir is required");
  if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) return fail(`--port must be a number from 0 to 65535, got "${values.port}"`);
  const maxSize = parseSize(values["max-size"]);
  if (maxSize === undefined) return fail(`--max-size needs a size such as 500MB or 50GB, got "${values["max-size"]}"`);
  const maxBlobSize = values["max-blob-size"] === undefined ? undefined : parseSize(values["max-blob-size"]);
  if (values["max-blob-size"] !== undefined && maxBlobSize === undefined) {
    return fail(`--max-blob-size needs a size such as 100MB, got "${values["max-blob-size"]}"`);
  }
  let tokens: Map<string, Scope> | undefined;
  if (values.tokens !== undefined) {
    const loaded = loadTokens(values.tokens);
    if (!loaded.ok) return fail(loaded.error);
    tokens = loaded.value;
  }

  const server = await startCacheServer({
    dir: values.dir,
    host: values.host,
    port: Number(values.port),
    maxSize,
    ...(maxBlobSize === undefined ? {} : { maxBlobSize }),
    ...(tokens === undefined ? {} : { tokens }),
  });
  process.stdout.write(`listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  await server.stop();
  return 0;
}
