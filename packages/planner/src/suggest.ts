/** "Did you mean ...?" for task names and field names. */

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidates closest to `name`: within an edit distance of about a third of
 * its length (1 for names of up to 3 characters, else at least 2) and shorter
 * than both names, or containing it; nearest first, at most `limit`.
 */
export function suggest(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const threshold = name.length <= 3 ? 1 : Math.max(2, Math.floor(name.length / 3));
  const lower = name.toLowerCase();
  const scored: [number, string][] = [];
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= threshold && distance < Math.min(name.length, candidate.length)) scored.push([distance, candidate]);
    else if (lower.length >= 3 && candidate.toLowerCase().includes(lower)) scored.push([threshold + 1, candidate]);
  }
  scored.sort((x, y) => x[0] - y[0] || x[1].localeCompare(y[1]));
  return scored.slice(0, limit).map(([, candidate]) => candidate);
}
