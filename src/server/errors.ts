/** Errors that carry the HTTP answer they deserve; anything else is a 500. */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = "HttpError";
  }
}
