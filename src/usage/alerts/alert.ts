/** An alert as webhooks receive it (the JSON body of the POST), with `type` telling which. */
export type Alert =
  | {
      type: "budget_threshold";
      /** `key` or `tenant`. */
      scope: "key" | "tenant";
      keyId?: string;
      tenant: string;
      period: "total" | "day" | "month";
      /** ISO time of the period's start (the epoch for `total`). */
      periodStart: string;
      thresholdPercent: number;
      spentMicros: number;
      limitMicros: number;
    }
  | { type: "circuit_opened" | "circuit_closed"; provider: string; model: string }
  | { type: "error_rate"; model: string; errorRate: number; failed: number; requests: number; windowMs: number };

/** An alert with the fields every delivery carries. */
export type AlertEnvelope = Alert & { id: string; time: string; message: string };
