/**
 * GitHub, the alternative to signing in: a public gist of the account that holds the challenge's
 * line. `GET /gists/{id}` names the owner (compared case-insensitively; the numeric ID is kept) and
 * carries each file's content. An optional token lifts the limit from 60 to 5,000 calls an hour.
 */
import type { Secret } from '../config.js';
import { parseSubject } from '../domain/subjects.js';
import { type PostedLine, type PostedProof, type PostReading, proofLine } from './account.js';
import { githubHeaders } from './github.js';
import { SignInError, serviceJson } from './sign-in.js';

export interface GistSettings {
  apiUrl: string;
  token: Secret | undefined;
}

/** A gist's address as people copy it: https://gist.github.com/[owner/]ID. */
const GIST_URL = /^https:\/\/gist\.github\.com\/(?:[A-Za-z0-9-]{1,39}\/)?([0-9a-f]{20,40})\/?$/i;

export class GistProof implements PostedProof {
  readonly where = 'a public gist on GitHub';
  readonly what = "the gist's address";

  constructor(private readonly settings: GistSettings) {}

  async read(c: PostedLine, url: string): Promise<PostReading> {
    const id = GIST_URL.exec(url.trim())?.[1];
    if (!id)
      return { kind: 'unknown', message: 'That is not the address of a gist (https://gist.github.com/...).' };
    let gist: Record<string, unknown>;
    try {
      gist = await serviceJson('GitHub', `${this.settings.apiUrl}/gists/${id}`, {
        headers: githubHeaders(this.settings.token?.reveal()),
        refused: 'GitHub has no public gist at that address.',
      });
    } catch (error) {
      if (error instanceof SignInError)
        return { kind: error.notFound ? 'gone' : 'unknown', message: error.message };
      throw error;
    }
    const owner = gist.owner as { login?: unknown; id?: unknown } | null | undefined;
    const login = typeof owner?.login === 'string' ? parseSubject('github', owner.login) : undefined;
    if (!login?.ok || typeof owner?.id !== 'number') {
      return { kind: 'unknown', message: 'GitHub does not say who owns that gist.' };
    }
    if (login.subject !== c.subject) {
      return {
        kind: 'gone',
        message: `That gist belongs to ${String(owner.login)}, but the identity names ${c.value}. Post it as ${c.value}.`,
      };
    }
    if (gist.public !== true) return { kind: 'gone', message: 'That gist is secret; make it public.' };
    const files = Object.values((gist.files ?? {}) as Record<string, { content?: unknown }>);
    const line = proofLine(c);
    const holds = files.some(
      (file) =>
        typeof file.content === 'string' && file.content.split(/\r?\n/).some((l) => l.trim() === line),
    );
    if (!holds) return { kind: 'gone', message: `That gist does not hold the line ${line}.` };
    return {
      kind: 'holds',
      subject: login.subject,
      serviceId: String(owner.id),
      postUrl: `https://gist.github.com/${id}`,
    };
  }
}
