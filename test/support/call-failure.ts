import { ConnectError } from "@connectrpc/connect";

/** The ConnectError a call fails with; throws when it succeeds. */
export async function failure(run: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await run();
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail");
}
