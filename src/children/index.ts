export * from "./labels.js";
export * from "./cidr.js";
export * from "./pod.js";
export * from "./service.js";
export * from "./service-account.js";
export * from "./network-policy.js";
export * from "./persistent-volume-claim.js";
