import { CombinedGraphQLErrors } from "@apollo/client";
import { apiErrors, type ApiError, type UnauthenticatedReason } from "../../common/errors.js";

export * from "../../common/errors.js";

/** The GraphQL errors inside whatever Apollo Client threw or returned (none for a network error). */
export function apiErrorsOf(error: unknown): ApiError[] {
  return CombinedGraphQLErrors.is(error) ? apiErrors(error.errors) : [];
}

/** Why the credential was refused, when the server refused it. */
export function unauthenticatedReason(error: unknown): UnauthenticatedReason | undefined {
  return apiErrorsOf(error).find((e) => e.code === "UNAUTHENTICATED")?.reason;
}
