import type { ApiError } from "./errors.js";
import type { TokenSession, Tokens } from "./session.js";

export type LoginResult =
  | { status: "signedIn"; username: string }
  /** The password was right and the account has two-factor login: ask for a code, send it with the same password. */
  | { status: "otpRequired" }
  | { status: "otpInvalid" }
  | { status: "invalidCredentials" }
  | { status: "rateLimited"; retryAfter: number };

/** The data of a tokenAuth answer: the tokens a client keeps, and who signed in. */
export interface TokenAuthData {
  tokenAuth: Tokens & { user: { username: string } };
}

/**
 * What a `tokenAuth` answer means for the sign-in screen; signs the session in when it
 * succeeded. Branches on `extensions.code` only. Throws what no screen can handle.
 */
export function signInWith(session: TokenSession, data: TokenAuthData | null, errors: ApiError[]): LoginResult {
  if (data !== null) {
    const { user, ...tokens } = data.tokenAuth;
    session.signIn(tokens);
    return { status: "signedIn", username: user.username };
  }
  const refusal = errors[0];
  switch (refusal?.code) {
    case "OTP_REQUIRED":
      return { status: "otpRequired" };
    case "OTP_INVALID":
      return { status: "otpInvalid" };
    case "INVALID_CREDENTIALS":
      return { status: "invalidCredentials" };
    case "RATE_LIMITED":
      return { status: "rateLimited", retryAfter: refusal.retryAfter ?? 60 };
  }
  throw new Error(refusal?.message ?? "tokenAuth answered no data");
}
