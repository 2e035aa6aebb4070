import { graphql } from "./gql/index.js";

export const SetupTotpDocument = graphql(`
  mutation SetupTotp {
    setupTotp {
      secret
      provisioningUri
    }
  }
`);

export const ConfirmTotpDocument = graphql(`
  mutation ConfirmTotp($code: String!, $password: String!) {
    confirmTotp(code: $code, password: $password) {
      recoveryCodes
    }
  }
`);
