import type { ApolloClient, TypedDocumentNode } from "@apollo/client";
import { signInWith, type LoginResult, type TokenAuthData } from "../../common/login.js";
import type { TokenSession } from "../../common/session.js";
import { apiErrorsOf, type ApiError } from "./errors.js";
import { graphql } from "./gql/index.js";

export const RegisterDocument = graphql(`
  mutation Register($input: RegisterInput!) {
    register(input: $input) {
      id
      username
    }
  }
`);

export const LoginDocument = graphql(`
  mutation Login($username: String!, $password: String!, $otp: String) {
    tokenAuth(username: $username, password: $password, otp: $otp) {
      access
      refresh
      accessExpiresAt
      refreshExpiresAt
      user {
        id
        username
      }
    }
  }
`);

export const LogoutDocument = graphql(`
  mutation Logout($refresh: String!) {
    revokeToken(refresh: $refresh) {
      revoked
    }
  }
`);

export const MeDocument = graphql(`
  query Me {
    me {
      id
      username
      email
      totpEnabled
    }
  }
`);

type Credentials = { username: string; password: string; otp?: string };

/** Signs in with `tokenAuth`: LoginDocument keeps the refresh token in memory (see browser.ts for the cookie). */
export async function login(
  client: ApolloClient,
  session: TokenSession,
  credentials: Credentials,
  mutation: TypedDocumentNode<TokenAuthData, Credentials> = LoginDocument,
): Promise<LoginResult> {
  try {
    const { data } = await client.mutate({ mutation, variables: credentials });
    return signInWith(session, data ?? null, []);
  } catch (error) {
    const errors = apiErrorsOf(error);
    if (errors.length === 0) throw error; // no answer from the server
    return signInWith(session, null, errors);
  }
}

/** Ends the session on the server (its refresh and access tokens stop working) and here. */
export async function logout(client: ApolloClient, session: TokenSession): Promise<void> {
  const refresh = session.refreshToken;
  session.signOut("logout");
  await client.clearStore();
  if (refresh !== null) await client.mutate({ mutation: LogoutDocument, variables: { refresh } });
}

/** register answers BAD_USER_INPUT with messages per input field; returns them, or null on success. */
export async function register(
  client: ApolloClient,
  input: { username: string; email: string; password: string },
): Promise<ApiError["fieldErrors"] | null> {
  try {
    await client.mutate({
      mutation: RegisterDocument,
      variables: { input: { ...input, passwordConfirm: input.password } },
    });
    return null;
  } catch (error) {
    const invalid = apiErrorsOf(error).find((e) => e.code === "BAD_USER_INPUT");
    if (invalid?.fieldErrors) return invalid.fieldErrors;
    throw error;
  }
}
