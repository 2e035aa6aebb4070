/**
 * The tokens of one signed-in user, kept in memory, and the rule that keeps a session alive:
 * at most one `refreshToken` request in flight.
 *
 * The server rotates refresh tokens: each one works once, and a refresh token presented a
 * second time is taken as stolen, which revokes the whole session. So callers that find the
 * access token expired at the same moment must not each send their own refresh; they all
 * await the same one. Nothing here knows GraphQL or a client library: the Apollo and Relay
 * examples both build on it.
 */

import type { ApiError } from "./errors.js";

/** What `tokenAuth` and `refreshToken` answer (the fields of `TokenPayload` a client keeps). */
export interface Tokens {
  access: string;
  /**
   * Null when the refresh token lives in an HttpOnly cookie instead of the body (`cookie: true`);
   * Relay types a nullable field as possibly undefined too.
   */
  refresh?: string | null | undefined;
  accessExpiresAt: string;
}

/**
 * Trades the current refresh token for new tokens. Rejects with `SessionEnded` when the
 * server refuses the refresh token, with anything else when the server could not be asked.
 */
export type RefreshTransport = (refresh: string | null) => Promise<Tokens>;

/** The server will not renew this session: the user has to sign in again. */
export class SessionEnded extends Error {
  constructor(readonly reason: string) {
    super(`The session has ended (${reason}); sign in again.`);
    this.name = "SessionEnded";
  }
}

/** What a refreshToken request answered, errors with their codes. */
export interface RefreshAnswer {
  data: { refreshToken: Tokens } | null;
  errors: ApiError[];
}

/**
 * The refresh token travels in the body, and the client keeps it in memory.
 * `send` posts `refreshToken(refresh: $refresh)` and answers what the server said.
 */
export function refreshInBody(send: (refresh: string) => Promise<RefreshAnswer>): RefreshTransport {
  return async (refresh) => {
    if (refresh === null) throw new SessionEnded("missing_credentials");
    return tokensOf(await send(refresh));
  };
}

/**
 * Browsers: the refresh token lives in an HttpOnly cookie, which no script can read. `send`
 * posts `refreshToken(cookie: true)` with `credentials: "include"`; the browser adds the
 * cookie, and the tokens answered have `refresh: null`. TokenSession stays as it is.
 */
export function refreshInCookie(send: () => Promise<RefreshAnswer>): RefreshTransport {
  return async () => tokensOf(await send());
}

/** The tokens of a refreshToken answer; SessionEnded when the server refused the refresh token. */
function tokensOf({ data, errors }: RefreshAnswer): Tokens {
  const refused = errors.find((error) => error.code === "UNAUTHENTICATED");
  if (refused) throw new SessionEnded(refused.reason ?? "token_invalid");
  if (data === null) throw new Error(errors[0]?.message ?? "refreshToken answered no data");
  return data.refreshToken;
}

export class TokenSession {
  #tokens: Tokens | null = null;
  #refreshing: Promise<string> | null = null;
  readonly #renew: RefreshTransport;
  readonly #onSignedOut: (reason: string) => void;

  constructor(renew: RefreshTransport, onSignedOut: (reason: string) => void = () => {}) {
    this.#renew = renew;
    this.#onSignedOut = onSignedOut;
  }

  get signedIn(): boolean {
    return this.#tokens !== null;
  }

  /** The refresh token to send to `revokeToken` when signing out. */
  get refreshToken(): string | null {
    return this.#tokens?.refresh ?? null;
  }

  signIn(tokens: Tokens): void {
    this.#tokens = tokens;
  }

  /**
   * After a page load in cookie mode: the access token was in memory and is gone, but the
   * cookie may still hold a refresh token. Trades it for tokens (as the one refresh in flight);
   * false when there is no session to resume and the user has to sign in.
   */
  async resume(): Promise<boolean> {
    if (this.#tokens !== null) return true;
    const resuming = (this.#refreshing ??= this.#renew(null)
      .then((tokens) => {
        this.#tokens = tokens;
        return tokens.access;
      })
      .finally(() => {
        this.#refreshing = null;
      }));
    try {
      await resuming;
      return true;
    } catch (error) {
      if (error instanceof SessionEnded) return false; // no cookie, or its session is over
      throw error;
    }
  }

  signOut(reason: string): void {
    if (this.#tokens === null) return;
    this.#tokens = null;
    this.#onSignedOut(reason);
  }

  /**
   * The access token to send with a request, or null when signed out. While a refresh is in
   * flight it waits for the new token rather than sending one that is being replaced.
   */
  async accessToken(): Promise<string | null> {
    if (this.#refreshing !== null) {
      try {
        return await this.#refreshing;
      } catch {
        return this.#tokens?.access ?? null;
      }
    }
    return this.#tokens?.access ?? null;
  }

  /**
   * A new access token, after the server answered `token_expired` to a request sent with
   * `expired`. Every caller shares the refresh in flight; a caller whose token was already
   * replaced by an earlier refresh gets the current token without asking the server again.
   */
  renewAfterExpiry(expired: string): Promise<string> {
    if (this.#refreshing !== null) return this.#refreshing;
    const tokens = this.#tokens;
    if (tokens === null) return Promise.reject(new SessionEnded("signed_out"));
    if (tokens.access !== expired) return Promise.resolve(tokens.access);
    this.#refreshing = this.#refresh(tokens).finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh(tokens: Tokens): Promise<string> {
    let renewed: Tokens;
    try {
      renewed = await this.#renew(tokens.refresh ?? null);
    } catch (error) {
      // A refused refresh token ends the session. A network failure does not: the tokens stay,
      // and the next request that meets token_expired tries again.
      if (error instanceof SessionEnded && this.#tokens === tokens) this.signOut(error.reason);
      throw error;
    }
    if (this.#tokens !== tokens) throw new SessionEnded("signed_out"); // signed out meanwhile
    this.#tokens = renewed;
    return renewed.access;
  }
}
