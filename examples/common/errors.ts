/** The server's errors as a client sees them: a code to branch on, and the extras that come with it. */

/** The server's stable error codes (`extensions.code`); the message is for people. */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "INVALID_CREDENTIALS"
  | "OTP_REQUIRED"
  | "OTP_INVALID"
  | "RATE_LIMITED"
  | "GRAPHQL_VALIDATION_FAILED"
  | "INTERNAL_SERVER_ERROR";

/** Why a credential was refused (`extensions.reason` of UNAUTHENTICATED). */
export type UnauthenticatedReason =
  | "missing_credentials"
  | "token_expired"
  | "token_invalid"
  | "token_revoked"
  | "api_key_invalid";

export interface ApiError {
  code: ErrorCode;
  message: string;
  path: readonly (string | number)[];
  reason?: UnauthenticatedReason;
  /** BAD_USER_INPUT: messages by input field name. */
  fieldErrors?: Record<string, string[]>;
  /** FORBIDDEN: the codenames the viewer lacks. */
  required?: string[];
  /** RATE_LIMITED: seconds to wait. */
  retryAfter?: number;
}

/** An entry of a response's `errors`, as the server sends it. */
export interface FormattedError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

export function apiErrors(errors: readonly FormattedError[]): ApiError[] {
  return errors.map(({ message, path, extensions }) => ({
    ...(extensions as Omit<ApiError, "message" | "path">),
    code: (extensions?.["code"] as ErrorCode | undefined) ?? "INTERNAL_SERVER_ERROR",
    message,
    path: path ?? [],
  }));
}

/** A message for the person at the keyboard, chosen by code, never by parsing the message. */
export function explain(error: ApiError): string {
  switch (error.code) {
    case "UNAUTHENTICATED":
      return error.reason === "missing_credentials" ? "Please sign in." : "Your session has ended; please sign in again.";
    case "FORBIDDEN":
      return error.required?.length ? `You need ${error.required.join(", ")} for this.` : "You may not do this.";
    case "NOT_FOUND":
      return "It does not exist, or you may not see it.";
    case "BAD_USER_INPUT":
      return Object.entries(error.fieldErrors ?? {})
        .map(([field, messages]) => `${field}: ${messages.join(" ")}`)
        .join("\n");
    case "INVALID_CREDENTIALS":
      return "Wrong username or password.";
    case "OTP_REQUIRED":
      return "Enter the code from your authenticator app.";
    case "OTP_INVALID":
      return "That code is wrong or was already used.";
    case "RATE_LIMITED":
      return `Too many attempts; try again in ${error.retryAfter ?? 60} seconds.`;
    case "GRAPHQL_VALIDATION_FAILED":
    case "INTERNAL_SERVER_ERROR":
      return "Something went wrong on our side.";
  }
}
