// Bundles the compiled CLI (dist/entry.js and everything it imports from the
// workspace packages) into dist/rbuild.mjs, with dynamically imported parts in
// dist/chunks/. Native addons and esbuild itself stay external. Run after
// `tsc -b` (the root `build` script does both).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));

// Ink and the packages it draws with (widest-line, cli-truncate, wrap-ansi) measure text with string-width, which
// builds Unicode-property regular expressions and an Intl.Segmenter as it loads and on its first non-ASCII call:
// some 60-100 ms of CPU on the TUI's thread, per copy (ink's tree has three), on every cold build. Each of their
// imports of it gets a wrapper instead: plain text (ASCII and the live area's symbols) is measured by
// packages/ui's narrow-width.ts, anything else by that same copy of string-width, loaded (esbuild runs a
// require()d module on its first require) only when such text comes. The widths are string-width's either way.
const narrowWidth = fileURLToPath(new URL("../../packages/ui/dist/narrow-width.js", import.meta.url));
const wrappedStringWidths = new Set();
const stringWidthOnDemand = {
  name: "string-width-on-demand",
  setup(build) {
    build.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData?.real === true || !/[\\/]node_modules[\\/]/.test(args.importer)) return undefined;
      const real = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { real: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      wrappedStringWidths.add(real.path);
      return { path: real.path, namespace: "string-width-on-demand" };
    });
    build.onLoad({ filter: /.*/, namespace: "string-width-on-demand" }, (args) => ({
      contents: `import { narrowWidth } from ${JSON.stringify(narrowWidth)};
export default function stringWidth(text, options) {
  const width = narrowWidth(text, options);
  return width !== undefined ? width : require(${JSON.stringify(args.path)}).default(text, options);
}
`,
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};
// Chunk names carry content hashes: without this, every build would leave its old chunks behind.
rmSync(`${dist}chunks`, { recursive: true, force: true });
await build({
  // rbuild/testing (testing.mjs) shares the chunks: a Buildfile it loads imports rbuild.mjs, one copy of the API.
  entryPoints: { rbuild: `${dist}entry.js`, testing: `${dist}testing.js` },
  outdir: dist,
  outExtension: { ".js": ".mjs" },
  // What only some runs need (the remote client and undici) goes in chunks loaded on first use.
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  // ts-morph (TypeScript itself, 10 MB) is loaded only by `rbuild graph` on a workspace with scripts.
  // react-devtools-core: ink imports it only with DEV=true (its devtools.js), and it is not installed.
  external: ["better-sqlite3", "@napi-rs/blake-hash", "esbuild", "ts-morph", "react-devtools-core"],
  // React's production build (the development one checks and warns on every render), in the TUI's chunk;
  // no rbuild code reads NODE_ENV (a task's own environment is passed to it, not read through this).
  define: { "process.env.NODE_ENV": '"production"' },
  // Bundled CommonJS dependencies call require(); give them one.
  banner: { js: 'import { createRequire as __rbuildCreateRequire } from "node:module"; const require = __rbuildCreateRequire(import.meta.url);' },
  plugins: [stringWidthOnDemand],
  logLevel: "warning",
});
// ink 6.8 draws with four copies of string-width (ink's, widest-line's, cli-truncate's and wrap-ansi's).
if (wrappedStringWidths.size === 0) throw new Error("bundle: no import of string-width by ink's tree was wrapped (see stringWidthOnDemand)");

// No source map for the bundled undici (packages/remote/src/undici-client.ts): rbuild turns source maps on
// for the Buildfile's stack traces, and then any error stack through undici (closing its sockets at the
// end of every remote build makes two) parsed its map, about 50 ms. Stacks in undici show the bundle's
// own lines instead.
const undiciChunks = readdirSync(`${dist}chunks`).filter((name) => /^undici-client-[A-Z0-9]+\.mjs$/.test(name));
if (undiciChunks.length !== 1) throw new Error(`bundle: expected one undici-client chunk in dist/chunks, found ${undiciChunks.length}`);
for (const name of undiciChunks) {
  const path = `${dist}chunks/${name}`;
  writeFileSync(path, readFileSync(path, "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"));
  rmSync(`${path}.map`);
}

// The process helper is a python file, started as a program: it ships where the bundled runner looks for
// it (packages/runners/src/process-helper.ts, HELPER_SCRIPT: ../helper/ of the file its code landed in).
const reference = '"../helper/process_helper.py"';
const holders = [...readdirSync(dist).map((name) => `${dist}${name}`), ...readdirSync(`${dist}chunks`).map((name) => `${dist}chunks/${name}`)].filter(
  (path) => path.endsWith(".mjs") && readFileSync(path, "utf8").includes(reference),
);
if (holders.length !== 1) throw new Error(`bundle: expected the process helper's path in one bundled file, found it in ${holders.length}`);
const shipped = resolve(dirname(holders[0]), "../helper");
rmSync(shipped, { recursive: true, force: true });
mkdirSync(shipped);
copyFileSync(fileURLToPath(new URL("../../packages/runners/helper/process_helper.py", import.meta.url)), `${shipped}/process_helper.py`);

// The TUI's thread loads ink from one CommonJS script with V8's code cache beside it (packages/ui/src/tui-script.ts):
// tui-painter.js with ink, React and yoga, whose three top-level awaits a script cannot have are taken out here:
// yoga's WebAssembly is compiled and instantiated synchronously (emscripten's instantiateWasm), and ink's two
// awaits load React's devtools, only with DEV=true (which the script does without).
const ui = fileURLToPath(new URL("../../packages/ui/", import.meta.url));
const painterScript = `${dist}tui-painter.cjs`;
rmSync(`${painterScript}.cache`, { force: true });
const patched = new Set();
const patch = (file, text, from, to) => {
  if (!text.includes(from)) throw new Error(`bundle: ${file} no longer has ${JSON.stringify(from)}: see the TUI script's patches`);
  patched.add(from);
  return text.replace(from, to);
};
const yogaBinaries = fileURLToPath(new URL("../../node_modules/yoga-layout/dist/binaries/yoga-wasm-base64-esm.js", import.meta.url));
await build({
  entryPoints: [`${ui}dist/tui-painter.js`],
  outfile: painterScript,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  define: { "process.env.NODE_ENV": '"production"' },
  external: ["react-devtools-core"],
  logLevel: "warning",
  plugins: [
    // The same string widths as the chunk's ink (see stringWidthOnDemand above).
    stringWidthOnDemand,
    {
      name: "no-top-level-await",
      setup(build) {
        build.onLoad({ filter: /yoga-layout[\\/]dist[\\/]src[\\/]index\.js$/ }, (args) => {
          const text = readFileSync(args.path, "utf8");
          const wasm = /"data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)"/.exec(readFileSync(yogaBinaries, "utf8"))?.[1];
          if (wasm === undefined) throw new Error("bundle: yoga's WebAssembly is no longer inlined as base64: see the TUI script's patches");
          const instantiate = `{ instantiateWasm(imports, receive) { receive(new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(${JSON.stringify(wasm)}, "base64")), imports)); return {}; } }`;
          const contents = patch(args.path, text, "const Yoga = wrapAssembly(await loadYoga());", `const config = ${instantiate};\nloadYoga(config);\nconst Yoga = wrapAssembly(config);`);
          return { contents, loader: "js" };
        });
        build.onLoad({ filter: /ink[\\/]build[\\/]reconciler\.js$/ }, (args) => {
          let text = readFileSync(args.path, "utf8");
          text = patch(args.path, text, "await import('./devtools.js');", "void 0;");
          text = patch(args.path, text, "? await loadPackageJson()", "? { name: undefined, version: undefined }");
          return { contents: text, loader: "js" };
        });
      },
    },
  ],
});
if (patched.size !== 3) throw new Error(`bundle: the TUI script took ${patched.size} of its 3 patches`);
// The code cache, made by a Node of its own (ink writes to its terminal as it exits): see tui-script.ts.
execFileSync(process.execPath, ["--input-type=module", "-e", `import { makeCodeCache } from ${JSON.stringify(`${ui}dist/tui-script.js`)}; await makeCodeCache(${JSON.stringify(painterScript)});`], {
  stdio: ["ignore", "ignore", "pipe"],
  env: { ...process.env, NODE_OPTIONS: "" },
});
// The TUI's thread finds the script as PAINTER_SCRIPT (packages/ui/src/tui-thread.ts): beside chunks/, where its module is.
const holdersOfScript = readdirSync(`${dist}chunks`).filter((name) => name.endsWith(".mjs") && readFileSync(`${dist}chunks/${name}`, "utf8").includes('"../tui-painter.cjs"'));
if (holdersOfScript.length !== 1) throw new Error(`bundle: expected the TUI script's path in one chunk, found it in ${holdersOfScript.length}`);
