/**
 * Bundling a Buildfile and the local modules it imports into one ES module
 * with esbuild, so that it runs from `.rbuild/buildfile/<hash>/` as it would
 * from its own directory.
 *
 * What refers to a module's own place is kept pointing at the original source:
 *
 * - `import.meta.url`, `.dirname`, `.filename` and `.resolve` become members of
 *   a constant each source file declares for itself on its first line (the
 *   `define`s below; esbuild binds it per module, and strings and comments that
 *   merely mention import.meta are left alone). `resolve` resolves a relative
 *   specifier against the source's URL, anything else as Node does.
 * - `import("./lib/" + name)` and `` import(`./lib/${name}`) ``: esbuild bundles
 *   every file the pattern can match. The directories it searched are returned
 *   (`globs`), so that a file added there later compiles the Buildfile again.
 * - An `import(p)` whose path esbuild cannot see is compiled in a second pass
 *   to call a function the file declares beside that constant, which refuses a relative path with an
 *   error at the call that says what to write instead: the file it names was
 *   not bundled (a TypeScript file could not even be loaded), and rbuild would
 *   not see it change. Any other path is imported as before.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { err, ok, type Result, type SetupFailure } from "@rbuild/core";

/** The per-module constant that stands for a source file's own import.meta. */
const META = "__rbuild_import_meta";

/** A specifier that means something else from the compiled module than from its source. */
const RELATIVE = /^\.\.?(\/|$)/;

export interface Transpiled {
  readonly code: string;
  /** Every source bundled (absolute paths). */
  readonly inputs: string[];
  /** The npm packages' files imported, kept external (absolute paths). */
  readonly externals: string[];
  /** The directories a computed import's pattern matched files in (absolute paths). */
  readonly globs: string[];
}

type Esbuild = typeof import("esbuild");

/** Where esbuild reported an import it could not follow, per source file: offsets of `import` in the file's text. */
type Unbundled = Map<string, number[]>;

/** The offset in `text` of 1-based `line` and 0-based `byteColumn` (esbuild counts columns in bytes). */
function offsetOf(text: string, line: number, byteColumn: number): number {
  let start = 0;
  for (let at = 1; at < line; at++) start = text.indexOf("\n", start) + 1;
  const end = text.indexOf("\n", start);
  const lineText = text.slice(start, end < 0 ? undefined : end);
  return start + Buffer.from(lineText).subarray(0, byteColumn).toString().length;
}

/** The message of a refused `import(specifier)`: what went wrong and what to write instead. */
function refusal(): string {
  return (
    "a relative path computed at run time cannot be imported in a Buildfile (rbuild bundles it, and bundles what an import's path names). " +
    'Start the path with its directory, as in import("./lib/" + name) or import(`./lib/${name}`): every file that can match is then bundled.'
  );
}

/** The function a call `import(p)` that could not be bundled is made to call instead. */
const IMPORT = "__rbuild_import";

/** The constant that stands for `file`'s import.meta; with the function for imports that could not be bundled. */
function metaFor(file: string, withImport: boolean): string {
  const url = JSON.stringify(pathToFileURL(file).href);
  const resolve = `(s)=>${RELATIVE}.test(s)?new URL(s,${url}).href:m.resolve(s)`;
  const meta = `const ${META}=((m)=>({url:${url},dirname:${JSON.stringify(dirname(file))},filename:${JSON.stringify(file)},resolve:${resolve}}))(import.meta);`;
  if (!withImport) return meta;
  // Refused with the caller's place (captureStackTrace drops this function's frame), as a rejection, as import() fails.
  const refuse = `const e=new Error(${JSON.stringify("import(")}+JSON.stringify(s)+${JSON.stringify(`): ${refusal()}`)});Error.captureStackTrace(e,${IMPORT});return Promise.reject(e)`;
  return `${meta}function ${IMPORT}(s,o){if(typeof s!=="string"||!${RELATIVE}.test(s))return import(s,o);${refuse}}`;
}

function loaderOf(path: string): "ts" | "tsx" | "js" | "jsx" {
  const ext = path.slice(path.lastIndexOf(".") + 1);
  return ext.includes("ts") ? (ext.endsWith("x") ? "tsx" : "ts") : ext.endsWith("x") ? "jsx" : "js";
}

/**
 * One esbuild pass. `rewrite` names the imports of a previous pass that could
 * not be bundled; they are made to call the module's own `import`.
 */
async function bundle(esbuild: Esbuild, entry: string, apiModule: string, outfile: string, rewrite: Unbundled | undefined) {
  const root = dirname(entry);
  const externals = new Set<string>();
  /** Per source given a constant: where it was put and what it is, to map esbuild's warnings back to the source. */
  const prefixes = new Map<string, { at: number; meta: string }>();
  const plugin: import("esbuild").Plugin = {
    name: "rbuild",
    setup(build) {
      build.onResolve({ filter: /^rbuild$/ }, () => ({ path: pathToFileURL(apiModule).href, external: true }));
      // Bare imports (npm packages): resolve now, from the importing file, and keep them external.
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === "rbuild:resolving" || args.path.startsWith("file:")) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "rbuild:resolving" });
        if (found.errors.length > 0) return { errors: found.errors };
        if (!isAbsolute(found.path)) return { path: found.path, external: true }; // node built-ins
        externals.add(found.path);
        return { path: pathToFileURL(found.path).href, external: true };
      });
      build.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
        let text = readFileSync(args.path, "utf8");
        const unbundled = rewrite?.get(args.path) ?? [];
        if (!text.includes("import.meta") && unbundled.length === 0) return undefined;
        // From the last, so that the offsets before each stay right. The call starts where `import` did: its place is the same.
        for (const at of [...unbundled].sort((a, b) => b - a)) {
          if (text.startsWith("import", at)) text = `${text.slice(0, at)}${IMPORT}${text.slice(at + "import".length)}`;
        }
        // On the first line (after a hashbang), so that every other line keeps its number in the source map.
        const hashbang = /^#![^\n]*\n/.exec(text)?.[0] ?? "";
        const meta = metaFor(args.path, unbundled.length > 0);
        prefixes.set(args.path, { at: hashbang.length, meta });
        return { contents: hashbang + meta + text.slice(hashbang.length), loader: loaderOf(args.path) };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: root,
    outfile,
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "inline",
    logLevel: "silent",
    // Reported (not only logged at debug level) so that such imports can be pointed at their source.
    logOverride: { "unsupported-dynamic-import": "warning" },
    define: {
      "import.meta.url": `${META}.url`,
      "import.meta.dirname": `${META}.dirname`,
      "import.meta.filename": `${META}.filename`,
      "import.meta.resolve": `${META}.resolve`,
    },
    plugins: [plugin],
  });
  const unbundled: Unbundled = new Map();
  for (const warning of result.warnings) {
    if (warning.id !== "unsupported-dynamic-import" || warning.location === null) continue;
    const file = resolve(root, warning.location.file);
    // The place in the text esbuild saw (with the constant, if onLoad added one), then in the file's own text.
    const text = readFileSync(file, "utf8");
    const prefix = prefixes.get(file);
    const seen = prefix === undefined ? text : text.slice(0, prefix.at) + prefix.meta + text.slice(prefix.at);
    let at = offsetOf(seen, warning.location.line, warning.location.column);
    if (prefix !== undefined && at >= prefix.at) at -= prefix.meta.length;
    unbundled.set(file, [...(unbundled.get(file) ?? []), at]);
  }
  return { result, externals, unbundled };
}

/** The directory a glob import's pattern (e.g. `./lib/**\/*.ts`, relative to its importer) searches. */
function globDirectory(importer: string, pattern: string): string {
  const literal = pattern.slice(0, pattern.indexOf("*"));
  return resolve(dirname(importer), literal.slice(0, literal.lastIndexOf("/") + 1) || ".");
}

/** Transpiles `entry` and what it imports into one module; a syntax or resolution error is a failure at its place. */
export async function transpile(entry: string, apiModule: string, outfile: string): Promise<Result<Transpiled, SetupFailure>> {
  // Required, not imported: importing esbuild's 100 KB CommonJS main from ESM has Node scan it for
  // export names first, which made loading it 28-40 ms instead of 12 (a cold build waits for it).
  const esbuild = createRequire(import.meta.url)("esbuild") as Esbuild;
  const root = dirname(entry);
  try {
    let pass = await bundle(esbuild, entry, apiModule, outfile, undefined);
    if (pass.unbundled.size > 0) pass = await bundle(esbuild, entry, apiModule, outfile, pass.unbundled);
    const { result, externals } = pass;
    const code = result.outputFiles[0]?.text ?? "";
    const inputs = Object.keys(result.metafile.inputs).map((input) => resolve(root, input));
    const globs = new Set<string>();
    for (const [input, { imports }] of Object.entries(result.metafile.inputs)) {
      for (const { path } of imports) if (path.includes("*") && RELATIVE.test(path)) globs.add(globDirectory(resolve(root, input), path));
    }
    return ok({ code, inputs, externals: [...externals].sort(), globs: [...globs].sort() });
  } catch (error) {
    const first = (error as { errors?: import("esbuild").Message[] }).errors?.[0];
    if (first === undefined) throw error;
    const location = first.location;
    if (location === null) {
      return err({ reason: "buildfile-threw", file: entry, message: first.text });
    }
    return err({
      reason: "buildfile-syntax",
      location: { file: resolve(root, location.file), line: location.line, column: location.column + 1 },
      message: first.text,
      lineText: location.lineText,
    });
  }
}
