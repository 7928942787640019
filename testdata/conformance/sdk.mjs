// Drives one real SDK against Gatehouse, as an application would, and prints one
// line per mode on stdout: {"mode": ..., "text": the model's final text} or
// {"mode": ..., "error": ...}. Run by conformance_test.go:
//
//   node sdk.mjs CLIENT BASE_URL MODEL MODE...
//
// CLIENT: openai-chat, openai-responses, anthropic, genai, ai-openai (the AI SDK's
// default openai() provider: Responses API), ai-openai-chat, ai-anthropic.
// MODE: text (one non-streaming call), stream (one streaming call), tool (a
// function-calling round trip: the model calls get_weather, the tool's result is
// sent back, the model answers). BASE_URL is Gatehouse's root (no /v1). Each
// mode's requests carry the header x-conformance-mode, so the test can tell them
// apart in the history.
//
// The SDKs' own retries are off: a retried call would hide a failure. Each SDK is
// imported only when used: loading them all costs seconds per run.
const [client, base, model, ...modes] = process.argv.slice(2);
let mode;
const headers = () => ({ 'x-conformance-mode': mode });
// GATEHOUSE_SDK_KEY: a Gatehouse client token sent as the API key (conformance_tokens_test.go).
const apiKey = process.env.GATEHOUSE_SDK_KEY || 'sk-client-placeholder-not-a-key';
const prompt = 'What is the capital of Australia?';
// The fake upstreams answer a request with this phrase and a tool on offer with a call to it.
const toolPrompt = 'conformance tool round trip: what is the weather in Paris?';
const weather = {
  name: 'get_weather',
  description: 'Get the current weather for a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
// The marker the fake upstream looks for in the tool result: computed, so only a
// tool that really ran produces it.
const runWeather = (args) => `${args.city ?? '?'}: 14°C, light rain (gatehouse-${6 * 7})`;
const parse = (s) => (typeof s === 'string' ? JSON.parse(s || '{}') : s ?? {});

const clients = {
  'openai-chat': async () => {
    const { default: OpenAI } = await import('openai');
    const c = new OpenAI({ apiKey, baseURL: `${base}/v1`, maxRetries: 0, defaultHeaders: headers() });
    const messages = [{ role: 'user', content: mode === 'tool' ? toolPrompt : prompt }];
    if (mode === 'stream') {
      const stream = await c.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      return text;
    }
    if (mode === 'text') {
      const r = await c.chat.completions.create({ model, messages });
      return r.choices[0].message.content;
    }
    const tools = [{ type: 'function', function: weather }];
    const first = await c.chat.completions.create({ model, messages, tools });
    const msg = first.choices[0].message;
    if (!msg.tool_calls?.length) throw new Error(`no tool call in ${JSON.stringify(first)}`);
    messages.push(msg);
    for (const call of msg.tool_calls) {
      messages.push({ role: 'tool', tool_call_id: call.id, content: runWeather(parse(call.function.arguments)) });
    }
    const second = await c.chat.completions.create({ model, messages, tools });
    return second.choices[0].message.content;
  },

  'openai-responses': async () => {
    const { default: OpenAI } = await import('openai');
    const c = new OpenAI({ apiKey, baseURL: `${base}/v1`, maxRetries: 0, defaultHeaders: headers() });
    if (mode === 'stream') {
      const stream = c.responses.stream({ model, input: prompt });
      let text = '';
      stream.on('response.output_text.delta', (e) => { text += e.delta; });
      const final = await stream.finalResponse();
      if (final.output_text !== text) throw new Error(`deltas ${JSON.stringify(text)} != final ${JSON.stringify(final.output_text)}`);
      return text;
    }
    if (mode === 'text') {
      const r = await c.responses.create({ model, input: prompt });
      return r.output_text;
    }
    // Stateless, as Codex does: the whole conversation each time, no previous_response_id.
    const tools = [{ type: 'function', ...weather, strict: false }];
    const input = [{ role: 'user', content: toolPrompt }];
    const first = await c.responses.create({ model, input, tools, store: false });
    const calls = first.output.filter((o) => o.type === 'function_call');
    if (!calls.length) throw new Error(`no function_call in ${JSON.stringify(first)}`);
    input.push(...first.output);
    for (const call of calls) {
      input.push({ type: 'function_call_output', call_id: call.call_id, output: runWeather(parse(call.arguments)) });
    }
    const second = await c.responses.create({ model, input, tools, store: false });
    return second.output_text;
  },

  anthropic: async () => {
    const { default: Anthropic } = await import('@anthropic-ai/sdk');
    const c = new Anthropic({ apiKey, baseURL: base, maxRetries: 0, defaultHeaders: headers() });
    const messages = [{ role: 'user', content: mode === 'tool' ? toolPrompt : prompt }];
    if (mode === 'stream') {
      const stream = c.messages.stream({ model, max_tokens: 1024, messages });
      let text = '';
      stream.on('text', (t) => { text += t; });
      const final = await stream.finalMessage();
      const finalText = final.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
      if (finalText !== text) throw new Error(`deltas ${JSON.stringify(text)} != final ${JSON.stringify(finalText)}`);
      return text;
    }
    const textOf = (m) => m.content.filter((b) => b.type === 'text').map((b) => b.text).join('');
    if (mode === 'text') return textOf(await c.messages.create({ model, max_tokens: 1024, messages }));
    const tools = [{ name: weather.name, description: weather.description, input_schema: weather.parameters }];
    const first = await c.messages.create({ model, max_tokens: 1024, messages, tools });
    const uses = first.content.filter((b) => b.type === 'tool_use');
    if (!uses.length) throw new Error(`no tool_use in ${JSON.stringify(first)}`);
    messages.push({ role: 'assistant', content: first.content });
    messages.push({ role: 'user', content: uses.map((u) => ({ type: 'tool_result', tool_use_id: u.id, content: runWeather(u.input) })) });
    return textOf(await c.messages.create({ model, max_tokens: 1024, messages, tools }));
  },

  genai: async () => {
    const { GoogleGenAI } = await import('@google/genai');
    const c = new GoogleGenAI({ apiKey, httpOptions: { baseUrl: base, headers: headers() } });
    if (mode === 'stream') {
      let text = '';
      for await (const chunk of await c.models.generateContentStream({ model, contents: prompt })) text += chunk.text ?? '';
      return text;
    }
    if (mode === 'text') return (await c.models.generateContent({ model, contents: prompt })).text;
    const config = { tools: [{ functionDeclarations: [weather] }] };
    const contents = [{ role: 'user', parts: [{ text: toolPrompt }] }];
    const first = await c.models.generateContent({ model, contents, config });
    const calls = first.functionCalls ?? [];
    if (!calls.length) throw new Error(`no functionCall in ${JSON.stringify(first)}`);
    contents.push(first.candidates[0].content);
    contents.push({
      role: 'user',
      parts: calls.map((f) => ({ functionResponse: { id: f.id, name: f.name, response: { output: runWeather(f.args) } } })),
    });
    return (await c.models.generateContent({ model, contents, config })).text;
  },
};

// The AI SDK: one model object per provider flavour, the same three calls.
const aiModels = {
  'ai-openai': async () => (await import('@ai-sdk/openai')).createOpenAI({ apiKey, baseURL: `${base}/v1`, headers: headers() })(model),
  'ai-openai-chat': async () => (await import('@ai-sdk/openai')).createOpenAI({ apiKey, baseURL: `${base}/v1`, headers: headers() }).chat(model),
  'ai-anthropic': async () => (await import('@ai-sdk/anthropic')).createAnthropic({ apiKey, baseURL: `${base}/v1`, headers: headers() })(model),
};
for (const [name, make] of Object.entries(aiModels)) {
  clients[name] = async () => {
    const { generateText, streamText, tool, jsonSchema, stepCountIs } = await import('ai');
    const m = await make();
    if (mode === 'stream') {
      let failure;
      const r = streamText({ model: m, prompt, maxRetries: 0, onError: ({ error }) => { failure = error; } });
      let text = '';
      for await (const t of r.textStream) text += t;
      if (failure) throw failure;
      return text;
    }
    if (mode === 'text') return (await generateText({ model: m, prompt, maxRetries: 0 })).text;
    const tools = {
      get_weather: tool({
        description: weather.description,
        inputSchema: jsonSchema(weather.parameters),
        execute: async (args) => runWeather(args),
      }),
    };
    const r = await generateText({ model: m, prompt: toolPrompt, tools, stopWhen: stepCountIs(3), maxRetries: 0 });
    if (!r.steps.some((s) => s.toolCalls.length)) throw new Error('no tool call');
    return r.text;
  };
}

const run = clients[client];
if (!run) {
  console.error(`unknown client ${client}`);
  process.exit(2);
}
for (mode of modes) {
  try {
    process.stdout.write(JSON.stringify({ mode, text: await run() }) + '\n');
  } catch (e) {
    let error = `${e?.stack ?? e}`;
    for (const k of ['status', 'error', 'responseBody', 'cause']) {
      if (e?.[k]) error += `\n${k}: ${typeof e[k] === 'string' ? e[k] : JSON.stringify(e[k])}`;
    }
    process.stdout.write(JSON.stringify({ mode, error }) + '\n');
  }
}
