/**
 * What every route takes, as JSON schema: a body, query or parameter of another shape (a list or a
 * number where text belongs, text too long) is answered with a clear 400 naming it, before any
 * handler runs, and never reaches a 500. Nothing is coerced: a number is not text.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type OperatorInfo, refusedPage } from './views.js';

/** Ajv as every server of ours uses it: no coercion, no defaults filled in, unknown keys kept out. */
export const STRICT_AJV = {
  customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false },
} as const;

/** Text of at most `max` characters. */
export const text = (max: number) => ({ type: 'string', maxLength: max }) as const;

/** An object of the given properties, every one optional unless named in `required`; nothing else. */
export const formBody = <P extends Record<string, object>>(properties: P, required: (keyof P)[] = []) =>
  ({
    type: 'object',
    properties,
    required,
    additionalProperties: false,
  }) as const;

/** What a route that reads no body takes: nothing (an empty form or object, or no body at all). */
export const NO_BODY = formBody({});

/** A button's POST may carry no body at all: that is an empty form, not one of another shape. */
export async function noBodyIsEmptyForm(request: FastifyRequest): Promise<void> {
  if (request.method === 'POST' && request.body === undefined) request.body = {};
}

export const ACCOUNT_PARAMS = {
  type: 'object',
  properties: { account: text(128) },
  required: ['account'],
} as const;

/** The error handler of the admin API: a schema's refusal is a 400 that says what did not fit. */
export function replyToBadInput(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  badInputReplier(undefined)(error, request, reply);
}

/** The error handler of the public pages, whose refusal pages carry `site`'s header. */
export function badInputReplier(
  site: OperatorInfo | undefined,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => replyToBad(error, request, reply, site);
}

function replyToBad(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
  site: OperatorInfo | undefined,
): void {
  if (error.validation) {
    const first = error.validation[0];
    const where = `${error.validationContext ?? 'request'}${first?.instancePath.replace(/\//g, '.') ?? ''}`;
    const what = `${where} ${first?.message ?? 'is not valid'}`;
    const html =
      /text\/html/.test(request.headers.accept ?? '') ||
      /application\/x-www-form-urlencoded/.test(request.headers['content-type'] ?? '');
    if (html) {
      void reply
        .code(400)
        .type('text/html; charset=utf-8')
        .send(refusedPage(`The request was not understood: ${what}.`, site, { title: 'Bad request' }));
      return;
    }
    void reply.code(400).send({ error: `the request was not understood: ${what}` });
    return;
  }
  // Fastify's own refusals (a body too large, unparsable JSON) keep their status; anything else is
  // ours and says nothing of its insides.
  const status = error.statusCode ?? 500;
  if (status < 500) {
    void reply.code(status).send({ error: error.message });
    return;
  }
  void reply.code(500).send({ error: 'internal error' });
}
