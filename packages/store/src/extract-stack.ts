/**
 * Restoring a transform's layer stack (see diff-layer.ts): each wanted entry
 * comes from the topmost layer that holds it (a layer above that deleted it
 * and one above that added it again would be the one holding it), and the
 * layers are written bottom first, each all or nothing as extract-layer.ts
 * does. Whiteouts are never written: the wanted entries are the task's whole
 * tree, so what a layer deleted is simply not among them (the caller removes
 * what the workspace has beyond them).
 */
import type { ManifestEntry } from "./layer.js";
import { extractLayer, layerPaths, type ExtractResult } from "./extract-layer.js";

/** Restores `wanted` from `layers` (blob paths or bytes, bottom first) under `root`; a refused layer stops it with its problem. */
export async function extractStack(layers: readonly (string | Buffer)[], root: string, wanted: readonly ManifestEntry[]): Promise<ExtractResult> {
  if (layers.length === 1) return extractLayer(layers[0]!, root, wanted);
  const holds: Set<string>[] = [];
  for (const layer of layers) {
    const paths = layerPaths(layer);
    if (typeof paths === "string") return { ok: false, problem: paths };
    holds.push(paths);
  }
  const parts: ManifestEntry[][] = layers.map(() => []);
  for (const want of wanted) {
    let at = holds.length - 1;
    while (at >= 0 && !holds[at]!.has(want.path)) at--;
    if (at < 0) return { ok: false, problem: `${want.path} is in no layer of the stack` };
    parts[at]!.push(want);
  }
  for (let i = 0; i < layers.length; i++) {
    if (parts[i]!.length === 0) continue;
    const result = await extractLayer(layers[i]!, root, parts[i]!);
    if (!result.ok) return result;
  }
  return { ok: true };
}
