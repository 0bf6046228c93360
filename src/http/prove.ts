/**
 * Routes of the proofs a person makes on the registrar's site: sign in with the service (sign-in.ts),
 * a PGP signature (pgp.ts) or a published code (web.ts). Each ends in the one entry of every proof,
 * `answerChallenge`; a GET shows, only a POST acts.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AccountChannel } from '../channels/account.js';
import type { Channel, PageChallenge, PageProof } from '../channels/channel.js';
import type { PgpChannel } from '../channels/pgp.js';
import { SIGN_IN_REFUSALS, SignInError, type SignInSeals, type SignInService } from '../channels/sign-in.js';
import type { WebChannel } from '../channels/web.js';
import type { AnswerWay } from '../domain/answers.js';
import { FIELDS, type Field } from '../domain/fields.js';
import type { ProofSource } from '../domain/request.js';
import type { Registrar } from '../registrar/registrar.js';
import { Throttle, type ThrottleRules, throttleKey } from '../registrar/throttle.js';
import { accountPage, pgpPage, signedInPage, webPage } from './prove-views.js';
import { formBody, text } from './schemas.js';
import { confirmedPage, type OperatorInfo, refusedPage, stillToProve } from './views.js';

export interface ProveDeps {
  registrar: Pick<
    Registrar,
    'pageChallenge' | 'describeChallenge' | 'answerChallenge' | 'status' | 'refused'
  >;
  channels: ReadonlyMap<Field, Channel>;
  seals: SignInSeals;
  publicUrl: string;
  registrarIndex: number;
  /** Who runs the registrar: every page's header. */
  site: OperatorInfo;
  /** Whether the sweep reads judged proofs again (the pages ask to keep a published line up). */
  readAgain: boolean;
  now?: () => number;
}

const COOKIE = 'registrar_sign_in';

/**
 * "Check now" and "Check the post" make the registrar fetch from a service, on its quota (GitHub's
 * API allows 5,000 calls an hour for everyone): per account and field, ten checks go at once, then
 * each waits twice as long as the last, up to ten minutes.
 */
const CHECKS: ThrottleRules = { freeTries: 10, firstWaitMs: 5_000, longestWaitMs: 10 * 60_000 };

const PROVE_PARAMS = {
  type: 'object',
  properties: { account: text(128), field: text(32) },
  required: ['account', 'field'],
} as const;
/** A public key with its signatures runs to tens of KiB (pgp-proof.ts reads up to 64 KiB of each). */
const PROVE_BODY = formBody({
  method: text(16),
  url: text(2048),
  armoredKey: text(96 * 1024),
  signedMessage: text(96 * 1024),
});

type Open = PageChallenge & { ok: true };

function cookieOf(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return undefined;
}

export function proveRoutes(app: FastifyInstance, deps: ProveDeps): void {
  const now = deps.now ?? Date.now;
  const site = deps.site;
  const secure = deps.publicUrl.startsWith('https:') ? '; Secure' : '';
  const html = (reply: FastifyReply) => reply.type('text/html; charset=utf-8');
  const refused = (reply: FastifyReply, message: string, code = 410, account?: string) =>
    html(reply)
      .code(code)
      .send(
        refusedPage(message, site, {
          title: 'This proof cannot be used',
          ...(account === undefined ? {} : { account }),
        }),
      );
  const redirectUri = (service: SignInService) => `${deps.publicUrl}/sign-in/${service.slug}/callback`;
  const checks = new Throttle(now, CHECKS);
  /** Counts a check of what `c`'s account published; the page that says when to come back if too soon. */
  const tooSoon = (reply: FastifyReply, c: Open, channel: Channel) => {
    const key = throttleKey(c.account, c.field);
    const waitUntil = checks.waitUntil(key);
    if (waitUntil === undefined) {
      checks.count(key);
      return undefined;
    }
    const seconds = Math.max(1, Math.ceil((waitUntil - now()) / 1000));
    reply.header('retry-after', String(seconds));
    return show(
      reply.code(429),
      c,
      channel,
      `This was checked many times in a short while. Check again in ${seconds} seconds; the registrar also looks again by itself.`,
    );
  };

  const confirmed = async (
    reply: FastifyReply,
    c: Open,
    challengeId: string,
    subject: string,
    way: AnswerWay,
    source: ProofSource = {},
  ) => {
    const outcome = await deps.registrar.answerChallenge(challengeId, subject, way, source);
    if (!outcome.ok) return refused(reply, outcome.message, 410, c.account);
    return html(reply).send(
      confirmedPage({
        account: c.account,
        label: c.label,
        site,
        ...stillToProve(await deps.registrar.status(c.account)),
      }),
    );
  };

  /** The field's page channel and its open challenge, or the page that says why there is none. */
  const find = async (
    account: string,
    field: string,
    reply: FastifyReply,
  ): Promise<{ c: Open; channel: Channel } | undefined> => {
    const channel = FIELDS.includes(field as Field) ? deps.channels.get(field as Field) : undefined;
    if (!channel?.page) {
      refused(reply, 'This registrar does not prove that field on its site.', 404);
      return undefined;
    }
    const c = await deps.registrar.pageChallenge(account, field as Field);
    if (!c) {
      refused(reply, 'That is not an account address.', 400);
      return undefined;
    }
    if (!c.ok) {
      refused(reply, c.message, 410, account);
      return undefined;
    }
    return { c, channel };
  };

  const show = (reply: FastifyReply, c: Open, channel: Channel, notice?: string) => {
    if (channel.page === 'account') {
      const { signIn, post } = channel as AccountChannel;
      // The sign-in form's redirect goes to the service's site: the page's policy must allow it.
      if (signIn) {
        reply.header(
          'content-security-policy',
          `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${signIn.authorizeOrigin}; frame-ancestors 'none'`,
        );
      }
      return html(reply).send(
        accountPage(
          c,
          {
            site,
            readAgain: deps.readAgain,
            ...(signIn ? { signIn: signIn.name } : {}),
            ...(post ? { post: { where: post.where, what: post.what } } : {}),
          },
          notice,
        ),
      );
    }
    if (channel.page === 'pgp') return html(reply).send(pgpPage(c, site, notice));
    const web = channel as WebChannel;
    return html(reply).send(
      webPage(c, { site, path: web.path, label: web.label, readAgain: deps.readAgain }, notice),
    );
  };

  /** A proof found on the site goes to the one entry with the subject it came from; else the page says why. */
  const proven = async (
    reply: FastifyReply,
    c: Open,
    channel: Channel,
    verdict: PageProof,
    way: AnswerWay,
  ) => {
    if (verdict.ok) {
      const { serviceId, postUrl } = verdict;
      return confirmed(reply, c, c.challengeId, verdict.subject, way, {
        ...(serviceId === undefined ? {} : { serviceId }),
        ...(postUrl === undefined ? {} : { postUrl }),
      });
    }
    // Kept on the field, so the status page still says why after this page is gone.
    await deps.registrar.refused(c.challengeId, verdict.message);
    return show(reply.code(422), c, channel, verdict.message);
  };

  app.get<{ Params: { account: string; field: string } }>(
    '/prove/:account/:field',
    { schema: { params: PROVE_PARAMS } },
    async (request, reply) => {
      const found = await find(request.params.account, request.params.field, reply);
      return found ? show(reply, found.c, found.channel) : reply;
    },
  );

  app.post<{ Params: { account: string; field: string }; Body: Record<string, string> | undefined }>(
    '/prove/:account/:field',
    { bodyLimit: 192 * 1024, schema: { params: PROVE_PARAMS, body: PROVE_BODY } },
    async (request, reply) => {
      const found = await find(request.params.account, request.params.field, reply);
      if (!found) return reply;
      const { c, channel } = found;
      if (channel.page === 'account') {
        const account = channel as AccountChannel;
        const { signIn } = account;
        if (request.body?.method === 'post' && account.post) {
          const url = String(request.body?.url ?? '');
          return (
            tooSoon(reply, c, channel) ?? proven(reply, c, channel, await account.checkPost(c, url), 'post')
          );
        }
        if (!signIn) return show(reply.code(400), c, channel, 'Paste the address of your post.');
        const started = deps.seals.start(c.challengeId, now());
        const { url, codeVerifier } = signIn.authorize({
          state: started.state,
          redirectUri: redirectUri(signIn),
        });
        reply.header(
          'set-cookie',
          `${COOKIE}=${started.nonce}.${codeVerifier}; Path=/sign-in/; Max-Age=600; HttpOnly; SameSite=Lax${secure}`,
        );
        return reply.redirect(url, 303);
      }
      if (channel.page === 'pgp') {
        const verdict = await (channel as PgpChannel).verify(c, {
          armoredKey: String(request.body?.armoredKey ?? ''),
          signedMessage: String(request.body?.signedMessage ?? ''),
        });
        return proven(reply, c, channel, verdict, 'signature');
      }
      return (
        tooSoon(reply, c, channel) ??
        proven(
          reply,
          c,
          channel,
          (await channel.check?.(c)) ?? { ok: false, message: 'Nothing to check.' },
          'published',
        )
      );
    },
  );

  app.get<{ Params: { slug: string }; Querystring: { state?: string; code?: string; error?: string } }>(
    '/sign-in/:slug/callback',
    {
      schema: {
        params: { type: 'object', properties: { slug: text(32) }, required: ['slug'] },
        // The service may add keys of its own (error_description, iss); those it names are single texts.
        querystring: {
          type: 'object',
          properties: { state: text(4096), code: text(4096), error: text(256) },
        },
      },
    },
    async (request, reply) => {
      const channel = [...deps.channels.values()].find(
        (c): c is AccountChannel =>
          c.page === 'account' && (c as AccountChannel).signIn?.slug === request.params.slug,
      );
      if (!channel) return refused(reply, 'This registrar has no such sign-in.', 404);
      // A repeated parameter (a list) was refused by the schema: each is one text or absent.
      const { state, code, error } = request.query;
      const checked = deps.seals.checkState(state ?? '', cookieOf(request.headers.cookie), now());
      if (!checked.ok) return refused(reply, checked.message, 400);
      const c = await deps.registrar.describeChallenge(checked.challengeId);
      if (!c.ok) return refused(reply, c.message);
      if (c.field !== channel.field) return refused(reply, SIGN_IN_REFUSALS.state, 400);
      const service = channel.signIn as SignInService;
      if (error !== undefined || !code) {
        const notice =
          error === 'access_denied'
            ? `You did not allow the sign-in on ${service.name}. Nothing changed; you can try again.`
            : `${service.name} did not complete the sign-in. Nothing changed; you can try again.`;
        return show(reply.code(400), c, channel, notice);
      }
      let account: Awaited<ReturnType<typeof service.signedIn>>;
      try {
        account = await service.signedIn({
          code,
          codeVerifier: checked.verifier ?? '',
          redirectUri: redirectUri(service),
        });
      } catch (failure) {
        if (!(failure instanceof SignInError)) throw failure;
        return show(reply.code(502), c, channel, failure.message);
      }
      if (account.subject !== c.subject) {
        const message = `You signed in to ${service.name} as ${account.handle}, but the identity names ${c.value}. Sign in as ${c.value}, or change the identity.`;
        await deps.registrar.refused(c.challengeId, message);
        return show(reply.code(403), c, channel, message);
      }
      const sealed = deps.seals.signedIn(
        {
          challengeId: c.challengeId,
          subject: account.subject,
          id: account.id,
          handle: account.handle,
          field: c.field,
        },
        now(),
      );
      return html(reply).send(
        signedInPage(c, { service: service.name, handle: account.handle, sealed, site }),
      );
    },
  );

  app.post<{ Body: Record<string, string> | undefined }>(
    '/sign-in/confirm',
    { schema: { body: formBody({ signedIn: text(4096) }) } },
    async (request, reply) => {
      const claims = deps.seals.checkSignedIn(String(request.body?.signedIn ?? ''), now());
      if (!claims) return refused(reply, SIGN_IN_REFUSALS.signedIn, 400);
      const c = await deps.registrar.describeChallenge(claims.challengeId);
      if (!c.ok) return refused(reply, c.message);
      return confirmed(reply, c, claims.challengeId, claims.subject, 'sign-in', { serviceId: claims.id });
    },
  );
}
