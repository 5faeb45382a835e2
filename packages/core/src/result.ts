/**
 * Expected failures are values, not exceptions. Functions that can fail in a
 * way the user must hear about return a `Result`; `throw` is kept for bugs.
 */
export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function err<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}

/**
 * Marks a branch the type checker proves unreachable; used as the default of
 * exhaustive switches so that adding a union member fails compilation.
 */
export function unreachable(value: never): never {
  throw new Error(`Internal error: unexpected value ${JSON.stringify(value)}`);
}
