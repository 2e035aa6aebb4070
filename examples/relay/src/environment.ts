import { createClient as createSocketClient } from "graphql-ws";
import {
  Environment,
  getRequest,
  graphql,
  Network,
  Observable,
  RecordSource,
  Store,
  type FetchFunction,
  type GraphQLResponse,
  type GraphQLTaggedNode,
  type OperationType,
  type RequestParameters,
  type SubscribeFunction,
  type Variables,
} from "relay-runtime";
import { apiErrors } from "../../common/errors.js";
import { answerOf, postGraphQL, type GraphQLRequest, type GraphQLResponseBody } from "../../common/http.js";
import { socketAuthentication } from "../../common/live.js";
import { refreshInBody, TokenSession } from "../../common/session.js";
import type { environmentRefreshMutation } from "./__generated__/environmentRefreshMutation.graphql";

const refreshMutation = graphql`
  mutation environmentRefreshMutation($refresh: String!) {
    refreshToken(refresh: $refresh) {
      access
      refresh
      accessExpiresAt
    }
  }
`;

// relay-compiler's persistConfig (relay.config.json) gives every operation an id and no text; the
// server runs it from persisted-queries.json, the manifest the compiler wrote
// (GRAPHQL_TRUSTED_DOCUMENTS). `doc_id` is Relay's name for it.
function requestOf({ id, text, name }: RequestParameters, variables: Variables): GraphQLRequest {
  if (id != null) return { doc_id: id, operationName: name, variables };
  if (text === null) throw new Error(`${name} has neither an id nor a text`);
  return { query: text, operationName: name, variables };
}

/**
 * One typed operation over fetch, outside Relay's store and network: for the session's own
 * calls (sign in, refresh, sign out), which must not go through the refresh they drive.
 */
export async function execute<TOperation extends OperationType>(
  uri: string,
  operation: GraphQLTaggedNode,
  variables: TOperation["variables"],
) {
  const request = requestOf(getRequest(operation).params, variables);
  return answerOf(await postGraphQL<TOperation["response"]>(uri, request));
}

function unauthenticatedReason(body: GraphQLResponseBody<unknown>) {
  return apiErrors(body.errors ?? []).find((error) => error.code === "UNAUTHENTICATED")?.reason;
}

/** `webSocketImpl`: a WebSocket class where there is no global one (Node.js 20: the `ws` package). */
export function createEnvironment(uri: string, onSignedOut?: (reason: string) => void, webSocketImpl?: unknown) {
  const session = new TokenSession(
    refreshInBody((refresh) => execute<environmentRefreshMutation>(uri, refreshMutation, { refresh })),
    onSignedOut,
  );

  // Authorization: Bearer <access> from memory; on token_expired one refresh for every request
  // that meets it, then this request once more; token_revoked or token_invalid ends the session.
  const fetchFn: FetchFunction = async (params, variables) => {
    const request = requestOf(params, variables);
    const accessToken = await session.accessToken();
    const body = await postGraphQL(uri, request, { accessToken });
    const reason = unauthenticatedReason(body);
    if (accessToken !== null && (reason === "token_revoked" || reason === "token_invalid")) {
      session.signOut(reason);
    }
    if (accessToken === null || reason !== "token_expired") return body as GraphQLResponse;
    const renewed = await session.renewAfterExpiry(accessToken).catch(() => null);
    if (renewed === null) return body as GraphQLResponse; // refused: signed out; answer the original error
    return (await postGraphQL(uri, request, { accessToken: renewed })) as GraphQLResponse;
  };

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
  // graphql-ws wants a `query` in every subscribe: a persisted operation sends an empty one beside its id.
  const subscribeFn: SubscribeFunction = (params, variables) =>
    Observable.create<GraphQLResponse>((sink) =>
      sockets.subscribe(
        { query: "", ...requestOf(params, variables), variables },
        {
          next: (response) => sink.next(response as GraphQLResponse),
          error: (error) => sink.error(error instanceof Error ? error : new Error(`socket closed: ${JSON.stringify(error)}`)),
          complete: () => sink.complete(),
        },
      ),
    );

  const network = Network.create(fetchFn, subscribeFn);
  const environment = new Environment({ network, store: new Store(new RecordSource()) });
  return { environment, session, sockets };
}
