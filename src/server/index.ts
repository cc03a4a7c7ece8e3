export * from "./app.js";
export * from "./config.js";
export * from "./log.js";
export * from "./metrics.js";
export * from "./transitions.js";
export * from "./errors.js";
export * from "./auth.js";
export * from "./validation.js";
