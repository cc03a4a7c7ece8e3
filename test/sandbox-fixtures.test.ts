/**
 * Table-driven over test/fixtures/sandbox: every case is a whole Metacontroller request answered
 * over HTTP and compared with its golden, then checked for the properties every answer must have.
 */
import { fixtureSuite } from "./support/fixture-suite.js";

fixtureSuite("sandbox", { minCases: 25 });
