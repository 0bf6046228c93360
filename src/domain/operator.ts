/**
 * The registrar's operator: who runs it (named on every page and in every message, so a person
 * knows who asks and whom to ask), and what the operator may do by hand (the judgements, the names
 * the audit log takes). Pure: the admin API and the CLI check the same rules.
 */

/** Who runs the registrar, as pages and messages say it. */
export interface OperatorInfo {
  /** The registrar index on chain. */
  index: number;
  /** The operator's name, when configured. */
  name?: string;
  /** Where people reach the operator: an email address or a URL, when configured. */
  contact?: string;
  /** The chain's name, e.g. "Polkadot People" (unknown only before the chain is first reached). */
  chain?: string;
}

/** "Acme Identity, registrar #3 on Polkadot People" (or "registrar #3 on Polkadot People"), for mid-sentence. */
export function registrarName(o: OperatorInfo): string {
  return `${o.name ? `${o.name}, registrar` : 'registrar'} #${o.index}${o.chain ? ` on ${o.chain}` : ''}`;
}

/** The sentence that ends every message: whom to ask, when there is someone to ask. */
export function contactLine(o: OperatorInfo): string | undefined {
  return o.contact ? `Questions: ${o.contact}` : undefined;
}

/** Whether a contact is a web address (linked as it is) rather than a mail address (linked with mailto:). */
export function contactHref(contact: string): string | undefined {
  if (/^https?:\/\/\S+$/i.test(contact)) return contact;
  if (/^[^\s@]+@[^\s@]+$/.test(contact)) return `mailto:${contact}`;
  return undefined;
}

/** What an operator may give by hand; Reasonable only ever follows proofs. */
export const OPERATOR_JUDGEMENTS = ['Erroneous', 'OutOfDate', 'LowQuality'] as const;
export type OperatorJudgement = (typeof OPERATOR_JUDGEMENTS)[number];

/** Who acted, for the audit log: a name, not left to guess. */
export const OPERATOR_NAME_RULE = '1 to 64 letters, digits, . _ @ - or spaces';

export function isOperatorName(name: string): boolean {
  return /^[\p{L}\p{N}._@ -]{1,64}$/u.test(name);
}

/**
 * Who runs registrar `index`, from the operator's settings; the chain's name is the configured one,
 * else the name the chain gives itself (unknown before it is reached).
 */
export function operatorInfo(
  index: number,
  settings: { name?: string | undefined; contact?: string | undefined; chainName?: string | undefined },
  chainsOwnName?: string,
): OperatorInfo {
  const chain = settings.chainName ?? chainsOwnName;
  return {
    index,
    ...(settings.name === undefined ? {} : { name: settings.name }),
    ...(settings.contact === undefined ? {} : { contact: settings.contact }),
    ...(chain === undefined ? {} : { chain }),
  };
}
