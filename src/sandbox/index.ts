export * from "./sandbox.js";
