import { createRoot } from 'react-dom/client';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import { AuthorizationHeader } from './authorization-header.jsx';
import { createSessionFetcher } from './fetcher.js';
import { createSession } from './session.js';
import { signInPlugin } from './sign-in-panel.jsx';
import './page.css';
import './sign-in-panel.css';
import { tokenFreeStorage } from './storage.js';
import { serveMonacoWorkersFrom } from './workers.js';

const DEFAULT_QUERY = `# Sign in with the key button on the
# left: the panel puts your access
# token into the Headers tab below
# and keeps it fresh.
# Run with Ctrl-Enter.

query WhoAmI {
  me {
    username
  }
}
`;

// The page (schema/templates/graphql/graphiql.html) says where the API and these files are.
const root = document.getElementById('graphiql');
serveMonacoWorkersFrom(new URL(root.dataset.assets, document.baseURI));
const session = createSession(root.dataset.endpoint);

createRoot(root).render(
  <GraphiQL
    fetcher={createSessionFetcher(root.dataset.endpoint, session)}
    plugins={[signInPlugin(session), explorerPlugin(), HISTORY_PLUGIN]}
    storage={tokenFreeStorage(session)}
    defaultQuery={DEFAULT_QUERY}
    defaultEditorToolsVisibility="headers"
    isHeadersEditorEnabled
    shouldPersistHeaders={false}
    showPersistHeadersSettings={false}
  >
    <AuthorizationHeader session={session} />
  </GraphiQL>,
);
