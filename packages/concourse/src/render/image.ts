/**
 * A container image reference (`node:20`, `registry.example:5000/acme/ci:1.2`, `registry:5000/img@sha256:...`) as a
 * task config's `image_resource` of type `registry-image`: `repository` and `tag` in its source, a
 * digest pinned as its `version`.
 */
export interface ImageResource {
  readonly type: "registry-image";
  readonly source: { readonly repository: string; readonly tag?: string };
  readonly version?: { readonly digest: string };
}

/** The image resource for `ref`, or undefined when `ref` is not an image reference. */
export function imageResource(ref: string): ImageResource | undefined {
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(ref) || ref.includes("//")) return undefined;
  const [name, digest, ...rest] = ref.split("@");
  if (rest.length > 0 || name === undefined || name === "" || (digest !== undefined && !/^[a-z0-9]+:[a-f0-9]{32,}$/.test(digest))) return undefined;
  const slash = name.lastIndexOf("/");
  const colon = name.lastIndexOf(":");
  const tagged = colon > slash;
  const repository = tagged ? name.slice(0, colon) : name;
  const tag = tagged ? name.slice(colon + 1) : undefined;
  if (repository === "" || repository.endsWith("/") || tag === "") return undefined;
  return { type: "registry-image", source: { repository, ...(tag === undefined ? {} : { tag }) }, ...(digest === undefined ? {} : { version: { digest } }) };
}
