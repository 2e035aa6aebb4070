import { apiErrors, type ApiError, type FormattedError } from "./errors.js";

/** An operation as its text (`query`), or as the id of a document the server has persisted (`doc_id`). */
export type GraphQLRequest = ({ query: string } | { doc_id: string }) & {
  operationName?: string | undefined;
  variables: unknown;
};

/** A response body as the server sends it. */
export interface GraphQLResponseBody<TData> {
  data?: TData | null;
  errors?: FormattedError[];
}

/** One operation over fetch, as `POST` with a JSON body, optionally with an access token. */
export async function postGraphQL<TData>(
  endpoint: string,
  request: GraphQLRequest,
  { accessToken = null, fetch: fetchImpl = fetch }: { accessToken?: string | null; fetch?: typeof fetch } = {},
): Promise<GraphQLResponseBody<TData>> {
  const response = await fetchImpl(endpoint, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(accessToken ? { Authorization: `Bearer ${accessToken}` } : {}),
    },
    body: JSON.stringify(request),
  });
  if (!response.ok) throw new Error(`${endpoint} answered HTTP ${response.status}`);
  return (await response.json()) as GraphQLResponseBody<TData>;
}

/** The data and the errors of a response, the errors with their codes. */
export function answerOf<TData>(body: GraphQLResponseBody<TData>): { data: TData | null; errors: ApiError[] } {
  return { data: body.data ?? null, errors: apiErrors(body.errors ?? []) };
}
