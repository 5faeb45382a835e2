/**
 * `rbuild errors --since WHEN`: a date (`2026-12-01`, the start of that day
 * in local time), a date and time (`2026-12-01T09:30`, local unless it names
 * a zone, `...Z` or `...+01:00`), or a time ago (`30m`, `6h`, `3d`, `2w`).
 */

const AGO = /^(\d+)(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;
const DATE = /^(\d{4})-(\d\d)-(\d\d)$/;
const DATE_TIME = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?$/;

/** What `--since` expects, for its usage error. */
export const SINCE_EXPECTS = "a date such as 2026-12-01, a date and time such as 2026-12-01T09:30, or a time ago such as 3d (also 30m, 6h, 2w)";

/** The time (ms since the epoch) `text` names, `now` being the time now; undefined when it names none. */
export function parseSince(text: string, now: number): number | undefined {
  const ago = AGO.exec(text);
  if (ago !== null) return now - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS];
  const date = DATE.exec(text);
  if (date !== null) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    const local = new Date(year, month - 1, day);
    // Date rolls 2026-02-30 over into March: a day that does not exist is no date.
    return local.getFullYear() === year && local.getMonth() === month - 1 && local.getDate() === day ? local.getTime() : undefined;
  }
  if (!DATE_TIME.test(text)) return undefined;
  const time = Date.parse(text.replace(" ", "T"));
  return Number.isNaN(time) ? undefined : time;
}
