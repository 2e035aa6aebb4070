import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { relayStylePagination } from "@apollo/client/utilities";
import { OperationTypeNode } from "graphql";
import { createClient as createSocketClient } from "graphql-ws";
import { from, of, switchMap } from "rxjs";
import { socketAuthentication } from "../../common/live.js";
import { refreshInBody, refreshInCookie, TokenSession } from "../../common/session.js";
import { unauthenticatedReason } from "./errors.js";
import { graphql } from "./gql/index.js";
import { postOperation } from "./request.js";

declare module "@apollo/client" {
  interface DefaultContext {
    /** The access token this operation was sent with (null: sent without one). */
    accessToken?: string | null;
    /** Set once the operation has been retried after a refresh, so it is retried only once. */
    renewed?: boolean;
  }
}

export const RefreshTokenDocument = graphql(`
  mutation RefreshToken($refresh: String!) {
    refreshToken(refresh: $refresh) {
      access
      refresh
      accessExpiresAt
    }
  }
`);

export const BrowserRefreshDocument = graphql(`
  mutation BrowserRefresh {
    refreshToken(cookie: true) {
      access
      refresh
      accessExpiresAt
    }
  }
`);

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:8000/graphql/ */
  uri: string;
  /**
   * Browsers: the refresh token lives in the server's HttpOnly cookie, not in memory (sign in
   * with browserLogin). Every request goes with `credentials: "include"`, so that the browser
   * stores and sends the cookie on another origin too.
   */
  refreshCookie?: boolean;
  /** Called once when the session ends: a refused refresh, a revoked or invalid token. */
  onSignedOut?: (reason: string) => void;
  fetch?: typeof fetch;
  /** A WebSocket class where there is no global one (Node.js 20: the `ws` package). */
  webSocketImpl?: unknown;
}

export function createClient({
  uri,
  refreshCookie = false,
  onSignedOut,
  fetch: baseFetch = fetch,
  webSocketImpl,
}: ClientOptions) {
  const fetchImpl: typeof fetch = refreshCookie
    ? (input, init) => baseFetch(input, { ...init, credentials: "include" })
    : baseFetch;
  const refresh = refreshCookie
    ? refreshInCookie(() => postOperation(uri, BrowserRefreshDocument, {}, fetchImpl))
    : refreshInBody((token) => postOperation(uri, RefreshTokenDocument, { refresh: token }, fetchImpl));
  const session = new TokenSession(refresh, onSignedOut);

  // Authorization: Bearer <access> on every operation, from memory.
  const authLink = new SetContextLink(async ({ headers }) => {
    const accessToken = await session.accessToken();
    return {
      accessToken,
      headers: accessToken ? { ...headers, authorization: `Bearer ${accessToken}` } : headers,
    };
  });

  // token_expired: refresh (one request for every operation that meets it) and retry once.
  // token_revoked or token_invalid: the session is over.
  const renewLink = new ErrorLink(({ error, result, operation, forward }) => {
    const { accessToken, renewed } = operation.getContext();
    const reason = unauthenticatedReason(error);
    if (!accessToken || reason === undefined) return;
    if (reason === "token_revoked" || reason === "token_invalid") {
      session.signOut(reason);
      return;
    }
    if (reason !== "token_expired" || renewed || result === undefined) return;
    const renewal = session.renewAfterExpiry(accessToken).then(
      () => true,
      () => false, // refused (the session is now signed out) or unreachable
    );
    return from(renewal).pipe(
      switchMap((ok) => {
        if (!ok) return of(result); // the operation answers its original error
        operation.setContext({ renewed: true });
        return forward(operation); // through authLink again, which now sends the new token
      }),
    );
  });

  const cache = new InMemoryCache({
    typePolicies: {
      // Pages of tasks(first:, after:) are merged into one list per filter and order.
      Query: { fields: { tasks: relayStylePagination(["filter", "orderBy"]) } },
    },
  });

  // Subscriptions go over the WebSocket at the same path, the access token in connection_init;
  // after the server closes it with 4403 token_expired, a refresh and a new connection.
  const socketAuth = socketAuthentication(session);
  const sockets = createSocketClient({
    url: uri.replace(/^http/, "ws"),
    connectionParams: socketAuth.connectionParams,
    on: { closed: socketAuth.closed },
    shouldRetry: socketAuth.shouldRetry,
    ...(webSocketImpl ? { webSocketImpl } : {}),
  });
  const overHttp = ApolloLink.from([renewLink, authLink, new HttpLink({ uri, fetch: fetchImpl })]);

  const client = new ApolloClient({
    link: ApolloLink.split(
      ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
      new GraphQLWsLink(sockets),
      overHttp,
    ),
    cache,
  });
  return { client, session, sockets };
}
