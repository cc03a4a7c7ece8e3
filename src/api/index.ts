export * from "./api-types.js";
export * from "./metacontroller.js";
export * from "./conditions.js";
export * from "./observed.js";
export * from "./crds.js";
