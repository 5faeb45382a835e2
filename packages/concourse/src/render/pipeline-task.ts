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
  /** The stage it belongs to (one of the stages given to renderPipeline). */
  readonly stage?: string;
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

/**
 * A stage of the graph: its tasks, and the stages it follows (stages of the same list). Stages are
 * given in an order where each comes after those it follows (the planner's `Graph.stages`).
 */
export interface PipelineStage {
  readonly name: string;
  readonly tasks: readonly string[];
  readonly after: readonly string[];
}
