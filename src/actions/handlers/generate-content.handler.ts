import { ActionHandler } from '../action-handler.js';
import { ActionError, classifyHttpStatus, toActionError, unconfigured } from '../action-error.js';
import { PayloadReader, result } from '../payload.js';

type Generate = { prompt: string; model: string; max_tokens?: number; system?: string };

const DEFAULT_BASE = 'https://api.openai.com/v1';

function request(p: Generate, base: string | undefined) {
  const messages = [
    ...(p.system ? [{ role: 'system', content: p.system }] : []),
    { role: 'user', content: p.prompt },
  ];
  return {
    method: 'POST',
    url: `${(base ?? DEFAULT_BASE).replace(/\/+$/, '')}/chat/completions`,
    body: { model: p.model, messages, ...(p.max_tokens ? { max_tokens: p.max_tokens } : {}) },
  };
}

/**
 * GENERATE_CONTENT: an OpenAI-compatible chat completion over plain HTTP
 * (`OPENAI_BASE_URL` honoured). No SDK: nothing LLM-related is loaded at
 * start-up and the key is read only when a real request is made. It has no
 * effect outside, so re-running it after a crash is safe.
 */
export const generateContentHandler: ActionHandler<Generate> = {
  type: 'GENERATE_CONTENT',
  idempotent: true,
  validate(payload) {
    const r = new PayloadReader(payload, ['prompt', 'model', 'max_tokens', 'system']);
    const prompt = r.str('prompt', { max: 100_000 });
    const model = r.str('model', { required: false, max: 100 }) ?? 'gpt-4o-mini';
    const maxTokens = r.int('max_tokens', { min: 1, max: 32_000 });
    const system = r.str('system', { required: false, max: 20_000 });
    return result(r, () => ({
      prompt: prompt!,
      model,
      ...(maxTokens ? { max_tokens: maxTokens } : {}),
      ...(system ? { system } : {}),
    }));
  },
  render(p, ctx) {
    const req = request(p, ctx.config.openaiBaseUrl);
    return {
      transport: 'http',
      ...req,
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ***redacted***' },
    };
  },
  async execute(p, ctx) {
    const key = ctx.config.openaiApiKey;
    if (!key) throw unconfigured('OPENAI_API_KEY is not set');
    const req = request(p, ctx.config.openaiBaseUrl);
    let res: Response;
    try {
      res = await fetch(req.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
        body: JSON.stringify(req.body),
        signal: ctx.signal,
      });
    } catch (err) {
      throw toActionError(err, ctx.signal);
    }
    const outcome = classifyHttpStatus(res.status);
    if (outcome !== 'ok') throw new ActionError(outcome, `LLM HTTP ${res.status}`);
    const json = (await res.json().catch(() => null)) as {
      choices?: { message?: { content?: string } }[];
    } | null;
    const text = json?.choices?.[0]?.message?.content;
    if (typeof text !== 'string')
      throw new ActionError('permanent', 'LLM response had no choices[0].message.content');
    return {
      message: `generated ${text.length} characters with ${p.model}`,
      output: { contentType: 'text/plain; charset=utf-8', body: text },
    };
  },
};
