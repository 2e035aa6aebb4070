/**
 * How a graphql-ws client (subscriptions over the WebSocket at /graphql/) signs in with the
 * session's access token, and what it does when the server closes the socket with 4403.
 *
 * The server reads the credential once, in `connection_init`, and closes the socket with 4403
 * and the reason when the credential stops working: `token_expired` when the access token
 * expires (every few minutes), `token_revoked`, `token_invalid` or `api_key_invalid` when the
 * session is over. graphql-ws reconnects after a 4403 and asks for the connection params again,
 * so after `token_expired` the client refreshes (the one refresh in flight that HTTP requests
 * share) and the new connection carries the new token; after any other reason the session
 * ends. Nothing here imports graphql-ws: the Apollo and Relay examples pass these to their own
 * `createClient`.
 */

import type { TokenSession } from "./session.js";

const FORBIDDEN = 4403;

export function socketAuthentication(session: TokenSession) {
  let sent: string | null = null;
  return {
    /** graphql-ws's `connectionParams`: asked again at every connection and reconnection. */
    connectionParams: async (): Promise<Record<string, string>> => {
      sent = await session.accessToken();
      return sent ? { Authorization: `Bearer ${sent}` } : {};
    },
    /** graphql-ws's `on.closed`. */
    closed: (event: unknown): void => {
      if (!isCloseEvent(event) || event.code !== FORBIDDEN || sent === null) return;
      if (event.reason === "token_expired") {
        session.renewAfterExpiry(sent).catch(() => {}); // a refused refresh signs the session out
      } else {
        session.signOut(event.reason);
      }
    },
    /** graphql-ws's `shouldRetry`: reconnect (after a 4403 too) while signed in. */
    shouldRetry: (): boolean => session.signedIn,
  };
}

/**
 * Closes a graphql-ws client for good. When its last subscription ended while it was waiting to
 * reconnect (after a 4403, say), graphql-ws gives up that reconnection with its own normal close
 * (1000, "All Subscriptions Gone"), and dispose() passes that on: the socket is closed either way.
 */
export async function closeSockets(sockets: { dispose(): void | Promise<void> }): Promise<void> {
  try {
    await sockets.dispose();
  } catch (error) {
    if (!isCloseEvent(error) || error.code !== NORMAL_CLOSURE) throw error;
  }
}

const NORMAL_CLOSURE = 1000;

function isCloseEvent(event: unknown): event is { code: number; reason: string } {
  return typeof event === "object" && event !== null && "code" in event && "reason" in event;
}
