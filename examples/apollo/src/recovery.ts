/**
 * The pages behind the links the server mails (docs/recovery.md): "forgot password", the reset
 * page at PASSWORD_RESET_URL and the verification page at EMAIL_VERIFY_URL. None of them needs
 * a signed-in user: the token in the link is the proof.
 */
import type { ApolloClient } from "@apollo/client";
import { apiErrorsOf } from "./errors.js";
import { graphql } from "./gql/index.js";

export const RequestPasswordResetDocument = graphql(`
  mutation RequestPasswordReset($email: String!) {
    requestPasswordReset(email: $email)
  }
`);

export const ResetPasswordDocument = graphql(`
  mutation ResetPassword($token: String!, $newPassword: String!) {
    resetPassword(token: $token, newPassword: $newPassword)
  }
`);

export const VerifyEmailDocument = graphql(`
  mutation VerifyEmail($token: String!) {
    verifyEmail(token: $token)
  }
`);

export const ResendVerificationEmailDocument = graphql(`
  mutation ResendVerificationEmail {
    resendVerificationEmail
  }
`);

/** The token of the link the page was opened with (`?token=...`, decoded), or null. */
export function tokenFromLink(pageUrl: string): string | null {
  return new URL(pageUrl).searchParams.get("token");
}

/**
 * "Forgot password": the answer is true whoever has the address, so the page always says the
 * same thing ("if an account has this address, a mail is on its way").
 */
export async function requestPasswordReset(client: ApolloClient, email: string): Promise<void> {
  await client.mutate({ mutation: RequestPasswordResetDocument, variables: { email } });
}

export type LinkOutcome =
  | { status: "done" }
  /** The link is used, expired or replaced: offer to send a new one. */
  | { status: "linkInvalid"; message: string }
  /** resetPassword only: the new password was refused, and the same link works for another try. */
  | { status: "passwordRefused"; messages: string[] };

/** Runs a link's mutation: done, or what its BAD_USER_INPUT says; anything else is thrown. */
async function followLink(mutation: () => Promise<unknown>): Promise<LinkOutcome> {
  try {
    await mutation();
    return { status: "done" };
  } catch (error) {
    const fieldErrors = apiErrorsOf(error).find((e) => e.code === "BAD_USER_INPUT")?.fieldErrors;
    if (fieldErrors?.["token"]) return { status: "linkInvalid", message: fieldErrors["token"].join(" ") };
    if (fieldErrors?.["newPassword"]) return { status: "passwordRefused", messages: fieldErrors["newPassword"] };
    throw error;
  }
}

/** The reset page: sets the password; then send the user to sign in (every session has ended). */
export function resetPassword(client: ApolloClient, token: string, newPassword: string): Promise<LinkOutcome> {
  return followLink(() => client.mutate({ mutation: ResetPasswordDocument, variables: { token, newPassword } }));
}

/** The verification page: proves the address the link was mailed to (or moves the account to it). */
export function verifyEmail(client: ApolloClient, token: string): Promise<LinkOutcome> {
  return followLink(() => client.mutate({ mutation: VerifyEmailDocument, variables: { token } }));
}

/** After FORBIDDEN email_not_verified: mails a new link; false when the address is verified already. */
export async function resendVerificationEmail(client: ApolloClient): Promise<boolean> {
  const { data } = await client.mutate({ mutation: ResendVerificationEmailDocument });
  return data?.resendVerificationEmail ?? false;
}
