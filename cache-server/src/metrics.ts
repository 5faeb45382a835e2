/** Who a request spoke to: a protocol, or the server itself (/healthz, /metrics, unknown paths). */
export type Protocol = "rbuild" | "turbo" | "nx" | "bazel" | "server";

/** What a read asked for, per protocol; each pair is rendered from the start, at 0. */
const READS: readonly (readonly [Protocol, string])[] = [
  ["rbuild", "cas"],
  ["rbuild", "ac"],
  ["turbo", "artifact"],
  ["nx", "artifact"],
  ["bazel", "cas"],
  ["bazel", "ac"],
];

const labels = (protocol: Protocol, kind: string): string => `protocol="${protocol}",kind="${kind}"`;

/** Counters for `/metrics`, in the Prometheus text format. */
export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #hits = new Map(READS.map(([p, k]) => [labels(p, k), 0]));
  readonly #misses = new Map(READS.map(([p, k]) => [labels(p, k), 0]));
  bytesIn = 0;
  bytesOut = 0;

  request(protocol: Protocol, method: string, route: string, status: number): void {
    const key = `protocol="${protocol}",method="${method}",route="${route}",code="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  hit(protocol: Protocol, kind: string): void {
    const key = labels(protocol, kind);
    this.#hits.set(key, (this.#hits.get(key) ?? 0) + 1);
  }

  miss(protocol: Protocol, kind: string): void {
    const key = labels(protocol, kind);
    this.#misses.set(key, (this.#misses.get(key) ?? 0) + 1);
  }

  render(store: { totalBytes: number; maxSize: number; evictions: number }): string {
    const lines = [
      "# HELP rbuild_cache_requests_total HTTP requests by protocol, method, route and status code.",
      "# TYPE rbuild_cache_requests_total counter",
      ...[...this.#requests].sort().map(([labels, n]) => `rbuild_cache_requests_total{${labels}} ${n}`),
      "# HELP rbuild_cache_hits_total Reads that found what they asked for, by protocol and kind.",
      "# TYPE rbuild_cache_hits_total counter",
      ...[...this.#hits].map(([l, n]) => `rbuild_cache_hits_total{${l}} ${n}`),
      "# HELP rbuild_cache_misses_total Reads that found nothing, by protocol and kind.",
      "# TYPE rbuild_cache_misses_total counter",
      ...[...this.#misses].map(([l, n]) => `rbuild_cache_misses_total{${l}} ${n}`),
      "# HELP rbuild_cache_bytes_in_total Bytes of blobs and entries stored.",
      "# TYPE rbuild_cache_bytes_in_total counter",
      `rbuild_cache_bytes_in_total ${this.bytesIn}`,
      "# HELP rbuild_cache_bytes_out_total Bytes of blobs and entries served.",
      "# TYPE rbuild_cache_bytes_out_total counter",
      `rbuild_cache_bytes_out_total ${this.bytesOut}`,
      "# HELP rbuild_cache_evictions_total Blobs and entries evicted to stay under --max-size.",
      "# TYPE rbuild_cache_evictions_total counter",
      `rbuild_cache_evictions_total ${store.evictions}`,
      "# HELP rbuild_cache_store_bytes Bytes stored now.",
      "# TYPE rbuild_cache_store_bytes gauge",
      `rbuild_cache_store_bytes ${store.totalBytes}`,
      "# HELP rbuild_cache_store_max_bytes The --max-size bound.",
      "# TYPE rbuild_cache_store_max_bytes gauge",
      `rbuild_cache_store_max_bytes ${store.maxSize}`,
    ];
    return `${lines.join("\n")}\n`;
  }
}
