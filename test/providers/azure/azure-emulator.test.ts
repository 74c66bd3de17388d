import { createAzureProvider } from "../../../src/providers/azure/create-azure-provider.js";
import { describeOpenAIFamilyAnswers } from "../openai/openai-family-answers-suite.js";
import { describeOpenAIFamilyErrors } from "../openai/openai-family-errors-suite.js";
import type { OpenAIFamilyMember } from "../openai/openai-family-member.js";

const member: OpenAIFamilyMember = {
  type: "azure",
  create: createAzureProvider,
  baseUrl: (url) => url,
  api: "azure",
  providerRequestId: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  kindOf503: "unavailable",
};

describeOpenAIFamilyAnswers(member);
describeOpenAIFamilyErrors(member);
