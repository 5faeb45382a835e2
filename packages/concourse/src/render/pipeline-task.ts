/** What rendering needs of a build graph: each task of it, as data (the CLI builds these from the planned graph). */
export interface PipelineTask {
  readonly name: string;
  /** Its deps' names (tasks of the same list). */
  readonly deps: readonly string[];
  /** A group runs nothing: it gets no job, and its dependents wait for what it groups. */
  readonly group: boolean;
  /** An impure task's job is started by hand: no `trigger: true`. */
  readonly pure: boolean;
  /** Its pool's name: jobs of one pool share a `serial_groups` tag. */
  readonly pool?: string;
  /** Runs after the first that a failure gets: the task step's `attempts` is retries + 1. */
  readonly retries?: number;
  /** Its own container image, over RenderOptions.image. */
  readonly image?: string;
}

export interface RenderOptions {
  /** The container image jobs run in (rbuild on its PATH), for tasks without their own. */
  readonly image: string;
  /** The shared remote cache every job reads its deps' outputs from and writes its own to. */
  readonly remote: string;
  /** Where the workspace (its Buildfile) is in the repository, POSIX-style; "" or undefined for its top. */
  readonly dir?: string;
}
