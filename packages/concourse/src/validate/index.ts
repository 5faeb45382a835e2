export { validatePipeline } from "./validate-pipeline.js";
export type { ValidateOptions } from "./validate-pipeline.js";
export { parsePipeline } from "./parse-pipeline.js";
export { errorMessages, formatErrors, formatWarnings } from "./problems.js";
export type { Problem, Section, ValidationResult } from "./problems.js";
export { identifierProblem, isValidIdentifier } from "./identifier.js";
