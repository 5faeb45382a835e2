export { renderPipeline, SOURCE_RESOURCE } from "./render-pipeline.js";
export type { PipelineConfig, RenderedPipeline, RenderResult } from "./render-pipeline.js";
export type { PipelineStage, PipelineTask, RenderOptions } from "./pipeline-task.js";
export { concourseName, uniqueNames } from "./names.js";
export { imageResource } from "./image.js";
export type { ImageResource } from "./image.js";
