/**
 * NODE_EXTRA_CA_CERTS without its start-up cost.
 *
 * Node reads and parses the certificates NODE_EXTRA_CA_CERTS names before it
 * runs any script. CI images and company machines often point it at the
 * system bundle (about 140 certificates), and then every Node process starts
 * 50-55 ms later (`node -e 0`: 80 against 25 ms on the bench machine). rbuild
 * uses TLS for one thing, an https remote cache. So the launcher (bin/rbuild)
 * starts Node with the variable moved to DEFERRED_VARIABLE, and rbuild puts it
 * back before anything reads its environment: its tasks, its keys and its
 * daemon see exactly what the user set. An https remote is given the
 * certificates Node would have trusted (`extraCaCertificates`).
 */
import { readFileSync } from "node:fs";

/** Where bin/rbuild moves NODE_EXTRA_CA_CERTS. */
export const DEFERRED_VARIABLE = "RBUILD_DEFERRED_NODE_EXTRA_CA_CERTS";

/** The file whose certificates Node did not load, because the launcher deferred them. */
let deferredFile: string | undefined;

/** Puts NODE_EXTRA_CA_CERTS back where the launcher moved it aside. Call before reading `env`. */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv): void {
  const file = env[DEFERRED_VARIABLE];
  if (file === undefined) return;
  delete env[DEFERRED_VARIABLE];
  env.NODE_EXTRA_CA_CERTS = file;
  deferredFile = file;
}

/**
 * The CA certificates a TLS connection must trust when Node did not load
 * NODE_EXTRA_CA_CERTS itself: Node's own roots and that file's, as Node would
 * have had them. Undefined when Node's defaults are right.
 */
export async function extraCaCertificates(warn: (message: string) => void): Promise<string[] | undefined> {
  if (deferredFile === undefined) return undefined;
  try {
    const extra = readFileSync(deferredFile, "utf8");
    // Loaded here: node:tls is not a small module, and builds without an https remote never need it.
    return [...(await import("node:tls")).rootCertificates, extra];
  } catch (error) {
    // As Node does at start-up: a warning, then its default certificates.
    warn(`ignoring the extra CA certificates in ${deferredFile} (NODE_EXTRA_CA_CERTS): ${(error as Error).message}`);
    deferredFile = undefined;
    return undefined;
  }
}
