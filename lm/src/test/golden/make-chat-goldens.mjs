// Renders the chat templates under lm/src/test/resources/chat with @huggingface/jinja (Hugging Face's own
// chat-template engine, the one transformers.js uses) into JSON goldens that ChatTemplateGoldenTest compares
// the Java rendering with. Re-run after changing a template or a conversation:
//
//   cd lm/src/test/golden && npm ci && node make-chat-goldens.mjs
//
// The variables are those transformers' apply_chat_template(messages, add_generation_prompt=True,
// tokenize=False) passes: messages, tools=None, documents=None, add_generation_prompt, the tokenizer's
// special-token strings; strftime_now is pinned to NOW so date-stamped templates render reproducibly.
// For templates whose tokenizer is committed (Qwen3), each rendering also gets its token ids as transformers.js
// tokenizes it without adding special tokens (@lenml/tokenizers, a fork of its tokenizers): the ids the Java
// side must produce from the same text.
import { Environment, Template } from "@huggingface/jinja";
import { TokenizerLoader } from "@lenml/tokenizers";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const resources = join(here, "..", "resources");
const outDir = join(resources, "chat", "goldens");
const engineVersion = JSON.parse(readFileSync(join(here, "node_modules", "@huggingface", "jinja", "package.json"), "utf8")).version;

// Fixed "now" for strftime_now (UTC), matching the Clock the Java test gives ChatTemplate.
const NOW = "2026-01-15T09:30:00Z";
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December"];
function strftimeNow(format) {
  const d = new Date(NOW);
  const pad = (n) => String(n).padStart(2, "0");
  const fields = {
    "%Y": String(d.getUTCFullYear()), "%m": pad(d.getUTCMonth() + 1), "%d": pad(d.getUTCDate()),
    "%H": pad(d.getUTCHours()), "%M": pad(d.getUTCMinutes()), "%S": pad(d.getUTCSeconds()),
    "%B": MONTHS[d.getUTCMonth()], "%b": MONTHS[d.getUTCMonth()].slice(0, 3), "%%": "%",
  };
  return format.replace(/%[YmdHMSBb%]/g, (t) => fields[t]);
}

// Each template: where its text comes from and the special tokens its tokenizer_config would hold.
const templates = [
  {
    name: "qwen3",
    source: "qwen3-tokenizer/tokenizer_config.json",
    config: JSON.parse(readFileSync(join(resources, "qwen3-tokenizer", "tokenizer_config.json"), "utf8")),
    tokenizer: TokenizerLoader.fromPreTrained({
      tokenizerJSON: JSON.parse(gunzipSync(readFileSync(join(resources, "qwen3-tokenizer", "tokenizer.json.gz"))).toString("utf8")),
      tokenizerConfig: JSON.parse(readFileSync(join(resources, "qwen3-tokenizer", "tokenizer_config.json"), "utf8")),
    }),
  },
  { name: "llama3-style", source: "chat/templates/llama3-style.jinja",
    config: { bos_token: "<|begin_of_text|>", eos_token: "<|eot_id|>" } },
  { name: "mistral-style", source: "chat/templates/mistral-style.jinja",
    config: { bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>" } },
  { name: "gemma-style", source: "chat/templates/gemma-style.jinja",
    config: { bos_token: "<bos>", eos_token: "<eos>", pad_token: "<pad>", unk_token: "<unk>" } },
];

const sys = (content) => ({ role: "system", content });
const user = (content) => ({ role: "user", content });
const asst = (content) => ({ role: "assistant", content });

const conversations = [
  { name: "system_user", messages: [sys("You are a helpful assistant."), user("What is the capital of France?")] },
  { name: "multi_turn", messages: [
    sys("You are a concise assistant."), user("Hi!"), asst("Hello! How can I help?"),
    user("Tell me a joke."), asst("Why did the chicken cross the road?"), user("Why?")] },
  { name: "no_system", messages: [
    user("Summarise: the cat sat on the mat."), asst("A cat sat."), user("Shorter.")] },
  { name: "single_user", messages: [user("Write one sentence about rivers.")] },
  { name: "unicode", messages: [
    sys("Réponds en français. Ω≈ç√∫"), user("Grüße aus Köln — 你好，世界! 🌍 Ça va? {{ not a tag }} {% raw %}"),
    asst("Très bien, merci ! 😊"), user("Et toi ? ñ ß ø")] },
  { name: "whitespace", messages: [user("  padded question\n\nwith blank lines  \n"), asst("\n answer \n"), user("next\t")] },
  { name: "thinking_history", messages: [
    user("What is 2+2?"), asst("<think>\nAdd the numbers.\n</think>\n\nThe answer is 4."), user("And 3+3?")] },
  { name: "tool_response_text", messages: [
    user("<tool_response>\nnot really a tool\n</tool_response>"), asst("Noted."), user("Thanks")] },
  // Not valid for the strict templates: those raise_exception, and the golden records the message.
  { name: "two_users_in_a_row", messages: [user("First."), user("Second.")] },
  { name: "tool_role", messages: [user("Weather?"), { role: "tool", content: "{\"temp\": 21}" }] },
];

// In Python's Jinja render variables shadow the environment's globals; @huggingface/jinja refuses to re-declare a
// global (strftime_now, raise_exception, ...). Let a render variable replace a global, as the Java side does.
const declare = Environment.prototype.set;
Environment.prototype.set = function (name, value) {
  this.variables.delete(name);
  return declare.call(this, name, value);
};

mkdirSync(outDir, { recursive: true });
for (const t of templates) {
  const text = t.source.endsWith(".json") ? t.config.chat_template : readFileSync(join(resources, t.source), "utf8");
  const specialTokens = {};
  for (const key of ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]) {
    const v = t.config[key];
    const s = typeof v === "string" ? v : v && typeof v.content === "string" ? v.content : null;
    if (s !== null) specialTokens[key] = s;
  }
  const template = new Template(text);
  const cases = conversations.map((c) => {
    const vars = { messages: c.messages, tools: null, documents: null, add_generation_prompt: true,
      ...specialTokens, strftime_now: strftimeNow };
    try {
      const prompt = template.render(vars);
      const ids = t.tokenizer ? { token_ids: t.tokenizer.encode(prompt, { add_special_tokens: false }) } : {};
      return { name: c.name, messages: c.messages, prompt, ...ids };
    } catch (e) {
      return { name: c.name, messages: c.messages, error: e.message };
    }
  });
  const golden = { template: t.name, source: t.source, engine: `@huggingface/jinja ${engineVersion}`, now: NOW,
    special_tokens: specialTokens, cases };
  writeFileSync(join(outDir, `${t.name}.json`), JSON.stringify(golden, null, 2) + "\n");
  console.log(`${t.name}: ${cases.filter((c) => "prompt" in c).length} renderings, `
    + `${cases.filter((c) => "error" in c).length} errors`);
}
