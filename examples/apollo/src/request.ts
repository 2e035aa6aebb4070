import type { TypedDocumentNode } from "@apollo/client";
import { addTypenameToDocument } from "@apollo/client/utilities";
import { getOperationAST, print } from "graphql";
import { answerOf, postGraphQL } from "../../common/http.js";

/**
 * One typed operation over fetch, outside Apollo Client: the refresh must not pass through
 * the links that call it, or an expired refresh token would ask for another refresh.
 */
export async function postOperation<TData, TVariables>(
  endpoint: string,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
  fetchImpl: typeof fetch = fetch,
) {
  const request = {
    // __typename as Apollo Client would ask for it, so that the generated types hold here too.
    query: print(addTypenameToDocument(document)),
    operationName: getOperationAST(document)?.name?.value,
    variables,
  };
  return answerOf(await postGraphQL<TData>(endpoint, request, { fetch: fetchImpl }));
}
