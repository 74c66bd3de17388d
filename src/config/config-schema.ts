import { z } from "zod";
import {
  circuitBreakerSchema,
  healthCheckSchema,
  pipelineSchema,
  rateLimitSchema,
  retrySchema,
  routingSchema,
  timeoutsSchema,
} from "./pipeline-schema.js";
import { providerTypes } from "./provider-type.js";
import { telemetrySchema } from "./telemetry-schema.js";
import { alertsSchema, authSchema, budgetsSchema, storageSchema } from "./cost-control-schema.js";
import { Secret, secretText } from "./secret.js";
import { serverSchema } from "./server-schema.js";

const positiveInt = z.number().int().positive();

/** A model's price in USD per million tokens: the unit every vendor's price page uses. */
export const modelPriceSchema = z.strictObject({
  input: z.number().nonnegative(),
  output: z.number().nonnegative().default(0),
  /** Price of prompt tokens served from cache (OpenAI cached input, Anthropic cache reads). */
  cachedInput: z.number().nonnegative().optional(),
  /** Price of prompt tokens written to cache (Anthropic cache writes, 5-minute TTL). */
  cacheWrite: z.number().nonnegative().optional(),
});

/** One provider entry (exported so that tests build complete entries with the defaults filled in). */
export const providerSchema = z
  .strictObject({
    name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, "letters, digits, '.', '_' and '-' only"),
    type: z.enum(providerTypes),
    /** Resolved by the loader from `${ENV_VAR}` or `file:PATH`; never written in the file itself. */
    apiKey: z.instanceof(Secret, { message: "must be ${ENV_VAR} or file:PATH" }),
    baseUrl: z.url().optional(),
    organization: z.string().optional(),
    project: z.string().optional(),
    /** Azure OpenAI api-version query parameter. */
    apiVersion: z.string().optional(),
    /** Anthropic requires max_tokens: this fills it when a request has none. */
    defaultMaxTokens: positiveInt.default(4096),
    /**
     * Time limit of one upstream HTTP call, in milliseconds: the SDK's timeout (until the answer's headers) and
     * undici's body limit; the OpenAI-family adapters also bound the whole call by it. `timeouts` holds the
     * pipeline's first-token, idle and total limits.
     */
    timeoutMs: positiveInt.default(600_000),
    timeouts: timeoutsSchema.prefault({}),
    circuitBreaker: circuitBreakerSchema.prefault({}),
    healthCheck: healthCheckSchema.optional(),
    /** Extra HTTP headers sent with every request to this provider; values are Secrets (they may be tokens). */
    headers: z.record(z.string(), secretText).default({}),
    rateLimit: rateLimitSchema.optional(),
  })
  .refine((p) => p.type !== "azure" || p.baseUrl !== undefined, {
    message: "azure providers need baseUrl (the resource endpoint)",
    path: ["baseUrl"],
  })
  .refine((p) => p.type !== "openai-compatible" || p.baseUrl !== undefined, {
    message: "openai-compatible providers need baseUrl",
    path: ["baseUrl"],
  });

const targetSchema = z.strictObject({
  provider: z.string(),
  /** The provider's model name; for Azure the deployment name. */
  model: z.string().min(1),
  /** Share of traffic under the weighted strategy. */
  weight: positiveInt.default(1),
  /**
   * The most output tokens the model returns per request (its output limit, e.g. 16384 for gpt-4o): a request's
   * `max_tokens` reserves at most this much of the target's tokens-per-minute window. Unset: no cap but the
   * window itself.
   */
  maxOutputTokens: positiveInt.optional(),
});

const modelSchema = z.strictObject({
  name: z.string().min(1),
  targets: z.array(targetSchema).min(1),
  routing: routingSchema.prefault({}),
  /** Overrides the global retry settings for this model. */
  retry: retrySchema.partial().optional(),
});

/** The gateway's whole configuration, as parsed from YAML after `${ENV}` and `file:` substitution. */
export const configSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    logging: z
      .strictObject({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      })
      .prefault({}),
    telemetry: telemetrySchema.prefault({}),
    pipeline: pipelineSchema.prefault({}),
    providers: z.array(providerSchema).min(1),
    models: z.array(modelSchema).min(1),
    /** Client keys and the admin key; absent, the gateway is open (see authSchema). */
    auth: authSchema.optional(),
    storage: storageSchema.prefault({}),
    budgets: budgetsSchema.prefault({}),
    alerts: alertsSchema.prefault({}),
    pricing: z
      .strictObject({
        /** Per upstream model name; wins over the shipped price table. */
        models: z.record(z.string(), modelPriceSchema).default({}),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    config.providers.forEach((p, i) => {
      if (names.has(p.name))
        ctx.addIssue({ code: "custom", message: `duplicate provider name ${p.name}`, path: ["providers", i, "name"] });
      names.add(p.name);
    });
    const modelNames = new Set<string>();
    config.models.forEach((m, i) => {
      if (modelNames.has(m.name))
        ctx.addIssue({ code: "custom", message: `duplicate model name ${m.name}`, path: ["models", i, "name"] });
      modelNames.add(m.name);
      m.targets.forEach((t, j) => {
        if (!names.has(t.provider)) {
          ctx.addIssue({
            code: "custom",
            message: `unknown provider ${t.provider}`,
            path: ["models", i, "targets", j, "provider"],
          });
        }
      });
    });
  });

/** A provider entry as written (before defaults and transforms): what tests build entries from. */
export type ProviderConfigInput = z.input<typeof providerSchema>;

/** The validated configuration. */
export type GatewayConfig = z.output<typeof configSchema>;
/** One configured provider. */
export type ProviderConfig = GatewayConfig["providers"][number];
/** One configured model name and its targets. */
export type ModelConfig = GatewayConfig["models"][number];
/** A price in USD per million tokens. */
export type ModelPrice = z.output<typeof modelPriceSchema>;
