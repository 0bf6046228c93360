/**
 * X, for operators without an X developer account: a public post holding the challenge's line, read
 * back through the public oEmbed endpoint (`GET /oembed?url=`; no authentication). `author_url`
 * names the account (compared case-insensitively) and `html` carries the post's text. Protected
 * posts cannot be embedded, and oEmbed is an embedding API rather than an identity one: the setting
 * is off by default.
 */
import { parseSubject } from '../domain/subjects.js';
import { type PostedLine, type PostedProof, type PostReading, proofLine } from './account.js';
import { SignInError, serviceJson } from './sign-in.js';

/** A post's address as people copy it. */
const POST_URL =
  /^https:\/\/(?:www\.|mobile\.)?(?:x|twitter)\.com\/[A-Za-z0-9_]{1,15}\/status\/[0-9]{1,20}\/?(?:\?.*)?$/;

export class TwitterPostProof implements PostedProof {
  readonly where = 'a public post on X';
  readonly what = "the post's address";

  constructor(private readonly oembedUrl: string) {}

  async read(c: PostedLine, url: string): Promise<PostReading> {
    const post = url.trim();
    if (!POST_URL.test(post)) {
      return {
        kind: 'unknown',
        message: 'That is not the address of a post on X (https://x.com/NAME/status/NUMBER).',
      };
    }
    const postUrl = post.split('?')[0] ?? post;
    let embed: Record<string, unknown>;
    try {
      embed = await serviceJson(
        'X',
        `${this.oembedUrl}/oembed?${new URLSearchParams({ url: postUrl, omit_script: 'true', dnt: 'true' })}`,
        { refused: 'X shows no public post at that address (protected posts cannot be checked).' },
      );
    } catch (error) {
      if (error instanceof SignInError)
        return { kind: error.notFound ? 'gone' : 'unknown', message: error.message };
      throw error;
    }
    const author =
      typeof embed.author_url === 'string'
        ? /\/([A-Za-z0-9_]{1,15})\/?$/.exec(embed.author_url)?.[1]
        : undefined;
    const handle = author ? parseSubject('twitter', author) : undefined;
    if (!handle?.ok) return { kind: 'unknown', message: 'X does not say who posted that.' };
    if (handle.subject !== c.subject) {
      return {
        kind: 'gone',
        message: `That post is by @${author}, but the identity names ${c.value}. Post it as ${c.value}.`,
      };
    }
    const line = proofLine(c);
    const text = typeof embed.html === 'string' ? embed.html : '';
    if (!text.includes(line)) return { kind: 'gone', message: `That post does not hold the line ${line}.` };
    return { kind: 'holds', subject: handle.subject, postUrl };
  }
}
