/**
 * Signing in and out when the refresh token lives in an HttpOnly cookie (a client made with
 * `createClient({ refreshCookie: true })`). The page never sees the refresh token: `tokenAuth`
 * sets the cookie and answers `refresh: null`, `refreshToken(cookie: true)` (the client's
 * refresh) rotates it, and `revokeToken` without an argument revokes the session and clears it.
 */
import type { ApolloClient } from "@apollo/client";
import type { LoginResult } from "../../common/login.js";
import type { TokenSession } from "../../common/session.js";
import { login } from "./account.js";
import { graphql } from "./gql/index.js";

export const BrowserLoginDocument = graphql(`
  mutation BrowserLogin($username: String!, $password: String!, $otp: String) {
    tokenAuth(username: $username, password: $password, otp: $otp, cookie: true) {
      access
      refresh
      accessExpiresAt
      user {
        id
        username
      }
    }
  }
`);

export const BrowserLogoutDocument = graphql(`
  mutation BrowserLogout {
    revokeToken {
      revoked
    }
  }
`);

/** Signs in; the server sets the refresh cookie, and the access token stays in memory. */
export function browserLogin(
  client: ApolloClient,
  session: TokenSession,
  credentials: { username: string; password: string; otp?: string },
): Promise<LoginResult> {
  return login(client, session, credentials, BrowserLoginDocument);
}

/** Ends the session on the server, which also clears the cookie, and here. */
export async function browserLogout(client: ApolloClient, session: TokenSession): Promise<void> {
  session.signOut("logout");
  await client.clearStore();
  await client.mutate({ mutation: BrowserLogoutDocument });
}
