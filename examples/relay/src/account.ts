import { graphql } from "relay-runtime";
import { signInWith, type LoginResult } from "../../common/login.js";
import type { TokenSession } from "../../common/session.js";
import type { accountLoginMutation } from "./__generated__/accountLoginMutation.graphql";
import type { accountLogoutMutation } from "./__generated__/accountLogoutMutation.graphql";
import { execute } from "./environment";

const loginMutation = graphql`
  mutation accountLoginMutation($username: String!, $password: String!, $otp: String) {
    tokenAuth(username: $username, password: $password, otp: $otp) {
      access
      refresh
      accessExpiresAt
      user {
        username
      }
    }
  }
`;

const logoutMutation = graphql`
  mutation accountLogoutMutation($refresh: String!) {
    revokeToken(refresh: $refresh) {
      revoked
    }
  }
`;

export async function login(
  uri: string,
  session: TokenSession,
  credentials: { username: string; password: string; otp?: string | null },
): Promise<LoginResult> {
  const { data, errors } = await execute<accountLoginMutation>(uri, loginMutation, credentials);
  return signInWith(session, data, errors);
}

/** Ends the session on the server and here; the caller starts a new Relay environment. */
export async function logout(uri: string, session: TokenSession): Promise<void> {
  const refresh = session.refreshToken;
  session.signOut("logout");
  if (refresh !== null) await execute<accountLogoutMutation>(uri, logoutMutation, { refresh });
}
