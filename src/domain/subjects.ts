/**
 * The value proven is the value judged: every field's on-chain text is parsed into exactly one
 * canonical subject (an address, an MXID, a handle, a host, a fingerprint) by the grammar the
 * service itself documents, or refused with a reason and a hint. Nothing is ever sent to a value
 * that did not parse, and a proof counts only when it came from the subject its challenge names.
 */
import type { Field } from './fields.js';
import { hasHiddenCharacters } from './text.js';

export type SubjectParse = { ok: true; subject: string } | { ok: false; reason: string; hint: string };

const refuse = (reason: string, hint: string): SubjectParse => ({ ok: false, reason, hint });
const accept = (subject: string): SubjectParse => ({ ok: true, subject });

/**
 * A DNS host name in ASCII (A-labels), as WHATWG URL produces it from a Unicode name: LDH labels of
 * 1 to 63 characters, no leading or trailing hyphen, at least two labels, a top-level label that is
 * not all digits (so that no IPv4 address passes), at most 253 characters.
 */
function isDnsName(host: string): boolean {
  if (host.length > 253) return false;
  const labels = host.split('.');
  if (labels.length < 2) return false;
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return false;
  return labels.every((label) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(label));
}

/** A Unicode host name to its ASCII form through WHATWG URL's IDNA processing; undefined if invalid. */
function asciiHost(host: string): string | undefined {
  if (!/^[^\s/?#@:[\]\\%]+$/u.test(host)) return undefined;
  let url: URL;
  try {
    url = new URL(`https://${host}/`);
  } catch {
    return undefined;
  }
  return isDnsName(url.hostname) ? url.hostname : undefined;
}

/**
 * RFC 5321 Mailbox with a dot-atom local part (RFC 5322 atext, or UTF-8 letters per RFC 6531) and a
 * domain name: no display name, comment, group, list, quoted string or address literal, which are
 * the forms that a mailer would deliver somewhere other than the value itself.
 */
const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\p{L}\\p{N}\\p{M}]";
const LOCAL_PART = new RegExp(`^${ATEXT}+(\\.${ATEXT}+)*$`, 'u');

function parseEmail(value: string): SubjectParse {
  const at = value.lastIndexOf('@');
  const hint = 'Set the email field to the plain address only, like name@example.org.';
  if (/[<>(),;:"[\]\\\s]/u.test(value)) {
    return refuse('the email field holds more than one plain address (a name, a comment or a list)', hint);
  }
  if (at <= 0 || at !== value.indexOf('@')) return refuse('the email field is not an email address', hint);
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (new TextEncoder().encode(local).length > 64 || !LOCAL_PART.test(local)) {
    return refuse('the part before @ of the email address is not valid', hint);
  }
  const host = asciiHost(domain);
  if (!host) return refuse('the domain of the email address is not a valid domain name', hint);
  const subject = `${local}@${host}`;
  if (subject.length > 254) return refuse('the email address is longer than 254 characters', hint);
  return accept(subject);
}

/**
 * A Matrix user ID by the specification's grammar: `@localpart:server_name`, localpart of
 * `a-z 0-9 . _ = - / +`, server name a host name of `A-Z a-z 0-9 - .` (in non-empty labels), an
 * IPv4 address or a bracketed IPv6 address, with an optional port; at most 255 bytes in all.
 */
const MXID = /^@([a-z0-9._=\-/+]+):([^:]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$/;

function parseMatrix(value: string): SubjectParse {
  const hint = 'Set the Matrix field to your full Matrix ID, like @alice:matrix.org (lower case).';
  const match = MXID.exec(value);
  if (!match || value.length > 255) return refuse('the Matrix field is not a Matrix ID', hint);
  const [, , server = '', port] = match;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65_535)) {
    return refuse('the port of the Matrix server is not valid', hint);
  }
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(server);
  const validServer = server.startsWith('[')
    ? URL.canParse(`https://${server}/`)
    : ipv4
      ? ipv4.slice(1).every((octet) => Number(octet) <= 255)
      : /^[A-Za-z0-9.-]{1,255}$/.test(server) &&
        server.split('.').every((label) => /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/.test(label)) &&
        !/^[0-9.]+$/.test(server);
  if (!validServer) return refuse('the server part of the Matrix ID is not a valid server name', hint);
  return accept(value);
}

/** X/Twitter: 1 to 15 of `A-Z a-z 0-9 _`, with or without `@`; handles compare case-insensitively. */
function parseTwitter(value: string): SubjectParse {
  const handle = value.startsWith('@') ? value.slice(1) : value;
  if (!/^[A-Za-z0-9_]{1,15}$/.test(handle)) {
    return refuse(
      'the X/Twitter field is not an X handle',
      'Set the X/Twitter field to your handle only, like @alice (letters, digits and _, at most 15).',
    );
  }
  return accept(handle.toLowerCase());
}

/**
 * Discord: today's unique usernames (2 to 32 of `a-z 0-9 _ .`, no `..`), compared in lower case;
 * or a legacy `name#1234` whose discriminator is not 0.
 */
function parseDiscord(value: string): SubjectParse {
  const hint = 'Set the Discord field to your Discord username, like alice_01 (not your display name).';
  const legacy = /^(.{2,32})#([0-9]{4})$/u.exec(value);
  if (legacy) {
    const [, name = '', discriminator] = legacy;
    if (discriminator === '0000' || /[@#:]|```/.test(name) || name !== name.trim()) {
      return refuse('the Discord field is not a Discord username', hint);
    }
    return accept(value);
  }
  const lower = value.toLowerCase();
  if (!/^[a-z0-9_.]{2,32}$/.test(lower) || lower.includes('..')) {
    return refuse('the Discord field is not a Discord username', hint);
  }
  return accept(lower);
}

/** GitHub: 1 to 39 of alphanumerics and single inner hyphens, with or without `@`; case-insensitive. */
function parseGithub(value: string): SubjectParse {
  const login = value.startsWith('@') ? value.slice(1) : value;
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/.test(login)) {
    return refuse(
      'the GitHub field is not a GitHub username',
      'Set the GitHub field to your username only, like octocat.',
    );
  }
  return accept(login.toLowerCase());
}

/**
 * Web: a host name. The runtime documents that `https://` is prepended, so a leading `https://`
 * and one trailing `/` are tolerated; a path, port, credentials, query or IP address are not.
 */
function parseWeb(value: string): SubjectParse {
  const bare = value.replace(/^https:\/\//i, '').replace(/\/$/, '');
  const host = asciiHost(bare);
  if (!host) {
    return refuse(
      'the web field is not a host name',
      'Set the web field to your site\'s host name only, like example.org (no path, port or "http://").',
    );
  }
  return accept(host);
}

/** The PGP fingerprint is a fixed 20-byte value on chain: 40 hex digits, upper case. */
function parseFingerprint(value: string): SubjectParse {
  const hex = value.replace(/^0x/i, '');
  if (!/^[0-9A-Fa-f]{40}$/.test(hex)) {
    return refuse('the PGP fingerprint is not 20 bytes', 'Set the full 40-digit fingerprint of your key.');
  }
  return accept(hex.toUpperCase());
}

/** Free text (legal name, image): one line of visible characters. */
function parseText(label: string): (value: string) => SubjectParse {
  return (value) => {
    if (value.trim().length === 0) return refuse(`the ${label} is empty`, `Set the ${label} in plain text.`);
    if (hasHiddenCharacters(value) || value !== value.trim()) {
      return refuse(
        `the ${label} contains control, text-direction or invisible characters, or surrounding spaces`,
        `Set the ${label} as plain visible text.`,
      );
    }
    return accept(value.normalize('NFC'));
  };
}

const PARSERS: Record<Field, (value: string) => SubjectParse> = {
  display: parseText('display name'),
  legal: parseText('legal name'),
  web: parseWeb,
  matrix: parseMatrix,
  email: parseEmail,
  pgpFingerprint: parseFingerprint,
  image: parseText('image'),
  twitter: parseTwitter,
  github: parseGithub,
  discord: parseDiscord,
};

/** Parses the text of `field` into its one canonical subject, or refuses it. */
export function parseSubject(field: Field, value: string): SubjectParse {
  if (field !== 'display' && field !== 'legal' && field !== 'image' && hasHiddenCharacters(value)) {
    return refuse(
      'the value contains control, text-direction or invisible characters',
      'Retype the value without invisible characters.',
    );
  }
  return PARSERS[field](value);
}

/**
 * The key message limits count a subject under: one person's mailbox however it is spelled (the
 * local part's case, a `+tag`, the domain's Unicode or ASCII form), so that variants of one
 * address share one budget. Other subjects are canonical already.
 */
export function limitSubject(field: Field, subject: string): string {
  if (field !== 'email') return subject;
  const at = subject.lastIndexOf('@');
  const local = subject.slice(0, at).toLowerCase();
  const plus = local.indexOf('+');
  return `${plus > 0 ? local.slice(0, plus) : local}@${subject.slice(at + 1).toLowerCase()}`;
}

/** The domain a subject's messages go to, where one is shared by many (email); else undefined. */
export function deliveryDomain(field: Field, subject: string): string | undefined {
  return field === 'email' ? subject.slice(subject.lastIndexOf('@') + 1).toLowerCase() : undefined;
}
