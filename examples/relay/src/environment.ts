import {
  Environment,
  getRequest,
  graphql,
  Network,
  RecordSource,
  Store,
  type FetchFunction,
  type GraphQLResponse,
  type GraphQLTaggedNode,
  type OperationType,
  type RequestParameters,
  type Variables,
} from "relay-runtime";
import { apiErrors } from "../../common/errors.js";
import { answerOf, postGraphQL, type GraphQLRequest, type GraphQLResponseBody } from "../../common/http.js";
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

export function createEnvironment(uri: string, onSignedOut?: (reason: string) => void) {
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

  const environment = new Environment({ network: Network.create(fetchFn), store: new Store(new RecordSource()) });
  return { environment, session };
}
