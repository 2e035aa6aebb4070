import { createGraphiQLFetcher } from '@graphiql/toolkit';

/**
 * GraphiQL's fetcher, sending the session's current access token in place of any
 * Authorization header the panel wrote: a tab or a history entry may still hold an older
 * token, and a token due for refresh is refreshed (once, whoever asks) before it is sent.
 * Subscriptions go over a WebSocket to the same path (graphql-ws), with the headers as the
 * payload of its connection_init, which is where the server reads the credential.
 */
export function createSessionFetcher(url, session) {
  const fetcher = createGraphiQLFetcher({
    url,
    subscriptionUrl: new URL(url, window.location.href).href.replace(/^http/, 'ws'),
  });
  return async (params, options = {}) =>
    fetcher(params, { ...options, headers: await withCurrentToken(options.headers ?? {}, session) });
}

async function withCurrentToken(headers, session) {
  const name = Object.keys(headers).find(key => key.toLowerCase() === 'authorization');
  if (name === undefined || !session.ownsAuthorization(headers[name])) return headers;
  const access = await session.currentAccessToken();
  return access ? { ...headers, [name]: `Bearer ${access}` } : headers;
}
