/** Limits the server enforces too; checked here first for a friendly message. */
export const MAX_COMMENT_LENGTH = 2000;
