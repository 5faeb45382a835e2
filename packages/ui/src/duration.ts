/** A duration as rbuild writes it everywhere (the plain reporter, the CI table, `history`, `show`): `340ms`, `1.2s`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}
