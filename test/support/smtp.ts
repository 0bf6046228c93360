/** The SMTP server the tests read mail from (shared with `npm run dev`'s mail catcher). */
export * from '../../src/dev/mailbox.js';
