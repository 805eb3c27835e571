/**
 * The shapes the widget works with (JSDoc only; this module exports nothing at run time).
 *
 * @typedef {{id: string, name: string, avatarUrl: string | null, role: string}} User
 * @typedef {{id: string, urlId: string, x: number, y: number, commentCount: number,
 *   resolved: boolean, author: User, createdAt: string, updatedAt: string, version: number,
 *   pending?: boolean}} Chat
 * @typedef {{id: string, chatId: string, body: string, author: User, createdAt: string,
 *   editedAt: string | null, pending?: boolean}} Comment
 * @typedef {{userDataJSONBase64: string, verificationHash: string, timestamp: number}} SsoData
 * @typedef {{sso?: SsoData, guestName?: string}} Identity
 * @typedef {{urlId?: string, epoch: string | null, offset: number, chats: Chat[],
 *   readOnly?: boolean}} Snapshot
 * @typedef {{
 *   server: string, tenantId: string, urlId: string, urlIdExplicit: boolean,
 *   chatSquarePercentage: number, locale?: string, hasDarkBackground: boolean | "auto",
 *   readonly: boolean, sso?: SsoData | null, hideResolved: boolean,
 *   onCommentCountUpdated?: (count: number) => void, stylesheet?: string | false
 * }} WidgetConfig
 */
export {};
