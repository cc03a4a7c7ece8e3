/**
 * Table-driven over test/fixtures/warmpool: every case is a whole Metacontroller request answered
 * over HTTP (with a retirer that retires every pod it is asked about) and compared with its
 * golden, then checked for the properties every answer must have.
 */
import { fixtureSuite } from "./support/fixture-suite.js";

fixtureSuite("warmpool", { minCases: 15 });
