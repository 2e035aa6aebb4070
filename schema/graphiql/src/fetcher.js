import { createGraphiQLFetcher } from '@graphiql/toolkit';

/**
 * GraphiQL's fetcher, sending the session's current access token in place of any
 * Authorization header the panel wrote: a tab or a history entry may still hold an older
 * token, and a token due for refresh is refreshed (once, whoever asks) before it is sent.
 */
export function createSessionFetcher(url, session) {
  return createGraphiQLFetcher({
    url,
    async fetch(input, init = {}) {
      const headers = new Headers(init.headers);
      if (session.ownsAuthorization(headers.get('authorization'))) {
        const access = await session.currentAccessToken();
        if (access) headers.set('authorization', `Bearer ${access}`);
      }
      return fetch(input, { ...init, headers });
    },
  });
}
