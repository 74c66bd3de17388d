/**
 * Whether npm started this process (`npx llm-gateway …`, `npm exec`, `npm start`): npm sets `npm_command` for
 * what it runs. npm runs the command through `sh -c`, and neither passes a SIGTERM on: killing npm leaves the
 * gateway running, re-parented to PID 1. The CLI watches for that (src/cli/parent-watch.ts). This is the only
 * place that reads the variable.
 */
export function launchedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  const command = env["npm_command"];
  return command !== undefined && command !== "";
}
