/** A start-up problem the operator can fix; printed without a stack trace. */
export class StartupError extends Error {}
