import { graphql, requestSubscription, type Environment } from "relay-runtime";
import type { taskEventsSubscription } from "./__generated__/taskEventsSubscription.graphql";

const subscription = graphql`
  subscription taskEventsSubscription {
    taskEvents {
      kind
      deletedId
      task {
        id
        title
        ...TaskItem_task
      }
    }
  }
`;

export type TaskEvent = taskEventsSubscription["response"]["taskEvents"];

/**
 * Every change to a task the signed-in user may see, as the server commits it. Relay sends it
 * through the network layer's subscribe function (environment.ts) and writes each event's task
 * to the store, so a TaskItem that shows the task updates by itself. `dispose()` ends it.
 */
export function watchTaskEvents(environment: Environment, onEvent: (event: TaskEvent) => void) {
  return requestSubscription<taskEventsSubscription>(environment, {
    subscription,
    variables: {},
    onNext: (response) => response && onEvent(response.taskEvents),
  });
}
