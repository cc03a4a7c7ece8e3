export * from "./sandbox.js";
export * from "./lifecycle.js";
