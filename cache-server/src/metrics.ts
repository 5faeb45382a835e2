/** Counters for `/metrics`, in the Prometheus text format. */
export class Metrics {
  readonly #requests = new Map<string, number>();
  hits = { cas: 0, ac: 0 };
  misses = { cas: 0, ac: 0 };
  bytesIn = 0;
  bytesOut = 0;

  request(method: string, route: string, status: number): void {
    const key = `method="${method}",route="${route}",code="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  render(store: { totalBytes: number; maxSize: number; evictions: number }): string {
    const lines = [
      "# HELP rbuild_cache_requests_total HTTP requests by method, route and status code.",
      "# TYPE rbuild_cache_requests_total counter",
      ...[...this.#requests].sort().map(([labels, n]) => `rbuild_cache_requests_total{${labels}} ${n}`),
      "# HELP rbuild_cache_hits_total Reads that found what they asked for.",
      "# TYPE rbuild_cache_hits_total counter",
      `rbuild_cache_hits_total{kind="cas"} ${this.hits.cas}`,
      `rbuild_cache_hits_total{kind="ac"} ${this.hits.ac}`,
      "# HELP rbuild_cache_misses_total Reads that found nothing.",
      "# TYPE rbuild_cache_misses_total counter",
      `rbuild_cache_misses_total{kind="cas"} ${this.misses.cas}`,
      `rbuild_cache_misses_total{kind="ac"} ${this.misses.ac}`,
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
