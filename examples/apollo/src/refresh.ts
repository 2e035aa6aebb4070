import { SessionEnded, type RefreshTransport } from "../../shared/session.js";
import { graphql } from "./gql/index.js";
import { postOperation } from "./request.js";

export const RefreshTokenDocument = graphql(`
  mutation RefreshToken($refresh: String!) {
    refreshToken(refresh: $refresh) {
      access
      refresh
      accessExpiresAt
    }
  }
`);

/**
 * Today's API: the refresh token travels in the body and the client keeps it in memory.
 * For the planned cookie mode, send `refreshToken(cookie: true)` without `refresh`, with
 * `credentials: "include"` on the fetch, and keep `refresh: null`; nothing else changes.
 */
export function refreshInBody(endpoint: string, fetchImpl: typeof fetch = fetch): RefreshTransport {
  return async (refresh) => {
    if (refresh === null) throw new SessionEnded("missing_credentials");
    const { data, errors } = await postOperation(endpoint, RefreshTokenDocument, { refresh }, fetchImpl);
    const refused = errors.find((error) => error.code === "UNAUTHENTICATED");
    if (refused) throw new SessionEnded(refused.reason ?? "token_invalid");
    if (data === null) throw new Error(errors[0]?.message ?? "refreshToken answered no data");
    return data.refreshToken;
  };
}
