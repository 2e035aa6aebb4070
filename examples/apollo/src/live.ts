import type { ApolloClient } from "@apollo/client";
import { graphql } from "./gql/index.js";
import type { TaskEventsSubscription } from "./gql/graphql.js";

export const TaskEventsDocument = graphql(`
  subscription TaskEvents {
    taskEvents {
      kind
      deletedId
      task {
        ...TaskItem
      }
    }
  }
`);

export type TaskEvent = TaskEventsSubscription["taskEvents"];

/**
 * Every change to a task the signed-in user may see, as the server commits it. Apollo sends the
 * subscription over the WebSocket (client.ts) and writes each event's task to the cache, so a
 * list that shows the task updates by itself. `unsubscribe()` on the result ends it.
 */
export function watchTaskEvents(client: ApolloClient, onEvent: (event: TaskEvent) => void, onError = (_: unknown) => {}) {
  return client.subscribe({ query: TaskEventsDocument }).subscribe({
    next: ({ data, error }) => (error ? onError(error) : onEvent(data!.taskEvents)),
    error: onError,
  });
}
