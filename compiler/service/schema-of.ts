import type { SchemaName } from "../schema/assets.js";
import type { ServiceFileKind } from "./service.js";

export function schemaOf(kind: ServiceFileKind): SchemaName {
  return kind === "workflow" ? "workflow.schema.json" : "config.schema.json";
}
