/** Bearer authentication of hook calls (Metacontroller ≥ v4.16 sends the webhook's `authorization`). */
import { createHash, timingSafeEqual } from "node:crypto";
import type { ServerResponse } from "node:http";
import { HttpError } from "./errors.js";

/** An Authorization header with a bearer token; exported for test/regex-safety.test.ts. */
export const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Without a token anyone who can reach the port can drive the claimer. Compared in constant time
 * (the digests have one length whatever was sent), so timing tells nothing about the token.
 */
export function bearerCheck(token: string | undefined): (header: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = createHash("sha256").update(token).digest();
  return (header) => {
    const match = BEARER.exec(header ?? "");
    const given = createHash("sha256").update(match?.[1] ?? "").digest();
    return match !== null && timingSafeEqual(given, expected);
  };
}

/** The 401 for a call without the right token, its challenge set on `res`. */
export function unauthorized(res: ServerResponse): HttpError {
  res.setHeader("WWW-Authenticate", 'Bearer realm="llmsafespace-hooks"');
  return new HttpError(401, "Missing or wrong bearer token: set the CompositeController's webhook authorization to the hook server's token");
}
