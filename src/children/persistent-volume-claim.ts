/** The optional data volume of a sandbox (SPEC §2 `storage`). */
import type { V1PersistentVolumeClaim } from "@kubernetes/client-node";
import type { Quantity } from "../api/index.js";
import type { ChildMetadata } from "../api/index.js";

export interface PersistentVolumeClaimInput {
  metadata: ChildMetadata;
  size: Quantity;
  /** @default the cluster's default StorageClass */
  storageClass?: string;
}

/** A ReadWriteOnce claim of the requested size, mounted at /data by the pod builder. */
export function persistentVolumeClaim(input: PersistentVolumeClaimInput): V1PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: input.metadata,
    spec: {
      accessModes: ["ReadWriteOnce"],
      ...(input.storageClass !== undefined ? { storageClassName: input.storageClass } : {}),
      resources: { requests: { storage: typeof input.size === "number" ? String(input.size) : input.size } },
    },
  };
}
