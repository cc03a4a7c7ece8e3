/**
 * Loads the CustomResourceDefinitions in `crds/`: the one source of the resource schemas, read
 * by the request validator (and the tests) instead of a second copy that could drift.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

/** An OpenAPI v3 schema node as a CRD holds it. */
export type OpenApiSchema = Record<string, unknown>;

export interface CrdVersionSchemas {
  kind: string;
  group: string;
  version: string;
  namespaced: boolean;
  /** `openAPIV3Schema.properties.spec` */
  spec: OpenApiSchema;
  /** `openAPIV3Schema.properties.status`, when the kind has one. */
  status?: OpenApiSchema;
}

/**
 * The `crds/` folder of this package, found from this module's own place, so the same code works
 * from `src/` under tsx and from `dist/src/` after a build.
 */
export function crdDirectory(start: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, "crds");
    if (existsSync(join(dir, "package.json")) && existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(`Could not find the crds/ folder above ${start}; it ships with the package and is needed to validate requests.`);
    }
  }
}

/** Every served version of every CRD in the folder, keyed by kind. */
export function loadCrdSchemas(directory: string = crdDirectory()): Map<string, CrdVersionSchemas> {
  const schemas = new Map<string, CrdVersionSchemas>();
  const files = readdirSync(directory)
    .filter((file) => file.endsWith(".yaml") && file !== "kustomization.yaml")
    .sort();
  for (const file of files) {
    for (const document of parseAllDocuments(readFileSync(join(directory, file), "utf8"))) {
      if (document.errors.length > 0) {
        throw new Error(`${file}: ${document.errors.map((e) => e.message).join("; ")}`);
      }
      const crd = asRecord(document.toJS());
      if (crd.kind !== "CustomResourceDefinition") continue;
      const spec = asRecord(crd.spec);
      const names = asRecord(spec.names);
      const versions = Array.isArray(spec.versions) ? spec.versions : [];
      for (const raw of versions) {
        const version = asRecord(raw);
        if (version.served !== true) continue;
        const root = asRecord(asRecord(asRecord(version.schema).openAPIV3Schema).properties);
        const kind = String(names.kind);
        schemas.set(kind, {
          kind,
          group: String(spec.group),
          version: String(version.name),
          namespaced: spec.scope === "Namespaced",
          spec: asRecord(root.spec),
          ...(root.status !== undefined ? { status: asRecord(root.status) } : {}),
        });
      }
    }
  }
  return schemas;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
