/**
 * Who may write where others may not (a locked image, a read-only site): moderators and
 * admins. The server decides; the widget only needs to know whether to offer writing.
 */

/** @typedef {import("./types.js").User} User */
/** @typedef {import("./types.js").SsoData} SsoData */

/** @param {User | null | undefined} user */
export function isStaff(user) {
  return Boolean(user && (user.role === "moderator" || user.role === "admin"));
}

/**
 * Whether a site's SSO payload names a moderator or an admin (`isModerator` / `isAdmin`,
 * JSON `true` only, as the server reads it). Before its first write a person has no session,
 * so this is all the widget knows of their role; the server checks the signature when they
 * write, and a payload that claims too much is simply refused then.
 * @param {SsoData | null | undefined} sso
 */
export function ssoNamesStaff(sso) {
  if (!sso || typeof sso.userDataJSONBase64 !== "string") return false;
  try {
    const bytes = Uint8Array.from(atob(sso.userDataJSONBase64), (c) => c.charCodeAt(0));
    const user = JSON.parse(new TextDecoder().decode(bytes));
    return Boolean(user) && (user.isAdmin === true || user.isModerator === true);
  } catch {
    return false; // not base64 or not JSON: the server will say what it thinks of it
  }
}
