import type { TypedDocumentNode } from "@apollo/client";
import { addTypenameToDocument } from "@apollo/client/utilities";
import { getOperationAST, print } from "graphql";
import { apiErrors, type ApiError } from "./errors.js";

export interface Answer<TData> {
  data: TData | null;
  errors: ApiError[];
}

/**
 * One typed GraphQL request over fetch, outside Apollo Client: the refresh must not pass
 * through the links that call it, or an expired refresh token would trigger another refresh.
 */
export async function postOperation<TData, TVariables>(
  endpoint: string,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
  fetchImpl: typeof fetch = fetch,
): Promise<Answer<TData>> {
  const response = await fetchImpl(endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    // __typename as Apollo Client would ask for it, so the generated types hold here too.
    body: JSON.stringify({
      query: print(addTypenameToDocument(document)),
      operationName: getOperationAST(document)?.name?.value,
      variables,
    }),
  });
  if (!response.ok) throw new Error(`${endpoint} answered HTTP ${response.status}`);
  const body = (await response.json()) as { data?: TData | null; errors?: Parameters<typeof apiErrors>[0] };
  return { data: body.data ?? null, errors: apiErrors(body.errors ?? []) };
}
