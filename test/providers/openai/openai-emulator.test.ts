import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { describeOpenAIFamilyAnswers } from "./openai-family-answers-suite.js";
import { describeOpenAIFamilyErrors } from "./openai-family-errors-suite.js";
import type { OpenAIFamilyMember } from "./openai-family-member.js";

const member: OpenAIFamilyMember = {
  type: "openai",
  create: createOpenAIProvider,
  baseUrl: (url) => `${url}/v1`,
  api: "openai",
  providerRequestId: /^req_[0-9a-f]{32}$/,
  kindOf503: "overloaded",
};

describeOpenAIFamilyAnswers(member);
describeOpenAIFamilyErrors(member);
