// Bundles the compiled CLI (dist/entry.js and everything it imports from the
// workspace packages) into dist/rbuild.mjs. Native addons and esbuild itself
// stay external. Run after `tsc -b` (the root `build` script does both).
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
await build({
  entryPoints: [`${dist}entry.js`],
  outfile: `${dist}rbuild.mjs`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  external: ["better-sqlite3", "@napi-rs/blake-hash", "esbuild"],
  define: { RBUILD_BUNDLED: "true" },
  // Bundled CommonJS dependencies call require(); give them one.
  banner: { js: 'import { createRequire as __rbuildCreateRequire } from "node:module"; const require = __rbuildCreateRequire(import.meta.url);' },
  logLevel: "warning",
});
