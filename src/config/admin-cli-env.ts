/**
 * The settings the admin CLI (`llm-gateway keys`, `llm-gateway usage`) takes from its environment: the admin
 * key, from `LLM_GATEWAY_ADMIN_KEY`. It is read from the environment, never from a flag, so it does not end up
 * in shell history or in the process list. This is the only place that reads the variable; a blank value counts
 * as unset.
 */
export function adminCliEnv(env: NodeJS.ProcessEnv = process.env): { adminKey: string | undefined } {
  const value = env["LLM_GATEWAY_ADMIN_KEY"]?.trim();
  return { adminKey: value === undefined || value === "" ? undefined : value };
}
