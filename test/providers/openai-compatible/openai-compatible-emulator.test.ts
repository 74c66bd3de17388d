import { createOpenAICompatibleProvider } from "../../../src/providers/openai-compatible/create-openai-compatible-provider.js";
import { describeOpenAIFamilyAnswers } from "../openai/openai-family-answers-suite.js";
import { describeOpenAIFamilyErrors } from "../openai/openai-family-errors-suite.js";
import type { OpenAIFamilyMember } from "../openai/openai-family-member.js";

const member: OpenAIFamilyMember = {
  type: "openai-compatible",
  create: createOpenAICompatibleProvider,
  baseUrl: (url) => `${url}/v1`,
  api: "openai",
  providerRequestId: /^req_[0-9a-f]{32}$/,
  kindOf503: "overloaded",
};

describeOpenAIFamilyAnswers(member);
describeOpenAIFamilyErrors(member);
