export * from "./warm-pool.js";
export * from "./claimer.js";
// Not ./warm-pod-claimer.js: it loads the Kubernetes client, most of the server's memory at rest,
// and main.ts imports it only when there is a cluster to talk to.
export * from "./warm-pod-match.js";
export * from "./recycle.js";
