/**
 * undici's Agent and request, in a module of their own so that session.ts can load them on its
 * first request (a static import here, which bundles as a chunk with working named exports).
 */
export { Agent, request } from "undici";
