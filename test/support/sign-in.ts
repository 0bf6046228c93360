/**
 * The steps a browser takes through a sign-in, without a browser: press "Sign in" (keeping the
 * cookie the registrar sets), follow the service's redirect back, read the question, press Confirm.
 */
export interface SignInSteps {
  /** The registrar's callback URL with the service's code and the state. */
  callback: string;
  /** The cookie the registrar set for this browser, as a Cookie header sends it back. */
  cookie: string;
  /** The Set-Cookie header itself, with its attributes. */
  setCookie: string;
  /** The authorize URL the registrar sent the browser to. */
  authorize: URL;
}

export async function startSignIn(registrar: string, address: string, field: string): Promise<SignInSteps> {
  const start = await fetch(`${registrar}/prove/${address}/${field}`, { method: 'POST', redirect: 'manual' });
  if (start.status !== 303) throw new Error(`the sign-in did not start: ${start.status}`);
  const setCookie = start.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  const authorize = new URL(start.headers.get('location') ?? '');
  const back = await fetch(authorize, { redirect: 'manual' });
  return { callback: back.headers.get('location') ?? '', cookie, setCookie, authorize };
}

/** The callback's page, and the sealed sign-in its Confirm button posts, if it asks. */
export async function callBack(
  steps: SignInSteps,
  cookie = steps.cookie,
): Promise<{ status: number; page: string; sealed?: string }> {
  const response = await fetch(steps.callback, { headers: { cookie } });
  const page = await response.text();
  const sealed = /name="signedIn" value="([^"]+)"/.exec(page)?.[1];
  return { status: response.status, page, ...(sealed ? { sealed } : {}) };
}

export function confirmSignIn(registrar: string, sealed: string): Promise<Response> {
  return fetch(`${registrar}/sign-in/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ signedIn: sealed }).toString(),
  });
}

/** The whole way: start, come back, confirm. Resolves with the Confirm's status. */
export async function signInAndConfirm(registrar: string, address: string, field: string): Promise<number> {
  const asked = await callBack(await startSignIn(registrar, address, field));
  if (!asked.sealed) throw new Error(`the registrar did not ask (${asked.status})`);
  return (await confirmSignIn(registrar, asked.sealed)).status;
}
