import type { ApolloClient } from "@apollo/client";
import { getFragmentData, graphql, type FragmentType } from "./gql/index.js";

export const TaskItemFragment = graphql(`
  fragment TaskItem on Task {
    id
    title
    completed
    createdAt
  }
`);

export const AddTaskDocument = graphql(`
  mutation AddTask($input: CreateTaskInput!) {
    createTask(input: $input) {
      ...TaskItem
    }
  }
`);

export const TasksDocument = graphql(`
  query Tasks($first: Int!, $after: String) {
    tasks(first: $first, after: $after) {
      totalCount
      edges {
        cursor
        node {
          ...TaskItem
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export function taskTitle(task: FragmentType<typeof TaskItemFragment>): string {
  return getFragmentData(TaskItemFragment, task).title;
}

export async function createTask(client: ApolloClient, title: string) {
  const { data } = await client.mutate({ mutation: AddTaskDocument, variables: { input: { title } } });
  return getFragmentData(TaskItemFragment, data!.createTask);
}

/**
 * Every task, read `pageSize` at a time the way a list with a "load more" button does: one
 * watched query, and fetchMore with the last endCursor whenever the list shown has a next
 * page. The cache's relayStylePagination policy appends each page to the list, and the
 * watched query emits the longer list. `onProgress` gets the number of tasks after each page.
 */
export function loadAllTasks(client: ApolloClient, pageSize: number, onProgress: (loaded: number) => void = () => {}) {
  const tasks = client.watchQuery({ query: TasksDocument, variables: { first: pageSize }, fetchPolicy: "network-only" });
  return new Promise<FragmentType<typeof TaskItemFragment>[]>((resolve, reject) => {
    let requestedAfter: string | undefined;
    const fail = (error: unknown) => {
      subscription.unsubscribe();
      reject(error);
    };
    const show = (result: ReturnType<typeof tasks.getCurrentResult>) => {
      if (result.error) return fail(result.error);
      if (result.loading || result.dataState !== "complete") return;
      const { edges, pageInfo } = result.data.tasks;
      if (pageInfo.hasNextPage && pageInfo.endCursor === requestedAfter) return; // the page is on its way
      onProgress(edges.length);
      if (!pageInfo.hasNextPage || pageInfo.endCursor === null) {
        subscription.unsubscribe();
        return resolve(edges.map((edge) => edge.node));
      }
      requestedAfter = pageInfo.endCursor;
      tasks.fetchMore({ variables: { after: requestedAfter } }).catch(fail);
    };
    // React after each emission, as a UI does when it renders: Apollo Client does not expect
    // fetchMore or unsubscribe from inside its own emission.
    const subscription = tasks.subscribe((result) => queueMicrotask(() => show(result)));
  });
}
