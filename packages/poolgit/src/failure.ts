/** What can go wrong looking at or cleaning a pool repository; each message says what to do. */
export type PoolGitFailure =
  /** clone, fetch, commit or another git step failed (git's own words included). */
  | { readonly reason: "git-failed"; readonly message: string }
  /** A pool named in --pools has no `<pool>/claimed` or `<pool>/unclaimed` directory. */
  | { readonly reason: "pool-missing"; readonly message: string }
  /** The branch kept moving: every push in the allowed attempts was rejected as non-fast-forward. */
  | { readonly reason: "push-conflicts"; readonly message: string }
  /** The remote refused the push for another reason (a hook, permissions). */
  | { readonly reason: "push-rejected"; readonly message: string }
  /** --concourse: Concourse could not be asked (no answer, or the login refused); every stale claim was left alone. */
  | { readonly reason: "concourse-unreachable"; readonly message: string };
