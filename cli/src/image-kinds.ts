/** A container image's kind (@rbuild/store `RunImageRecord`), as `rbuild show` and `rbuild export` name it. */
import type { RunImageRecord } from "@rbuild/store";

export const IMAGE_KINDS: Readonly<Record<RunImageRecord["kind"], string>> = {
  "oci-layout": "OCI image layout",
  "docker-archive": "`docker save` tarball",
  rootfs: "root filesystem directory",
};
