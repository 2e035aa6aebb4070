"""The WebSocket of /graphql/: subscriptions over graphql-transport-ws (docs/subscriptions.md).

- consumer.py: the Channels consumer, Strawberry's GraphQLWSConsumer refusing foreign origins and
  hosts, the legacy subprotocol and oversized frames;
- protocol.py: Strawberry's graphql-transport-ws handler, running subscriptions only, with the
  credential of connection_init and the per-socket limit;
- context.py: what resolvers see of a socket (its viewer, authenticated again for every
  subscribe and every event) and how a subscription hears a channel-layer group;
- hub.py: the sockets of one server process, the groups they listen to (one membership per
  process), and the periodic recheck of all their credentials.

docs/subscriptions.md explains the whole from a client's side.
"""
