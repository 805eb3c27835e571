/** REST calls and the session token of one (server, tenant), shared by the widgets of a page. */
import { storage, Emitter } from "./util.js";

/** @typedef {import("./types.js").User} User */
/** @typedef {import("./types.js").Identity} Identity */

const REQUEST_TIMEOUT_MS = 15000;
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {{status?: number, code?: string}} [info]
   */
  constructor(message, info = {}) {
    super(message);
    this.name = "ApiError";
    this.status = info.status ?? 0;
    this.code = info.code ?? "error";
  }
}

/**
 * Whether a write was refused because writes are closed where it went: the image is locked
 * (`read_only`) or the whole site is read-only (`readonly`).
 * @param {unknown} err
 */
export function isReadOnlyRefusal(err) {
  return (
    err instanceof ApiError &&
    err.status === 403 &&
    (err.code === "read_only" || err.code === "readonly")
  );
}

/** REST access and the session token of one (server, tenant); shared by widgets of a page. */
export class Api {
  /** @type {Map<string, Api>} */
  static instances = new Map();

  /** @param {string} server @param {string} tenantId */
  static for(server, tenantId) {
    const key = `${server}|${tenantId}`;
    let api = Api.instances.get(key);
    if (!api) {
      api = new Api(server, tenantId);
      Api.instances.set(key, api);
    }
    return api;
  }

  /** @param {string} server @param {string} tenantId */
  constructor(server, tenantId) {
    this.server = server;
    this.tenantId = tenantId;
    this.base = `${server}/api/v1/${encodeURIComponent(tenantId)}`;
    this.sessionKey = `imagechat:session:${server}|${tenantId}`;
    this.guestNameKey = `imagechat:guest-name:${tenantId}`;
    /** @type {Promise<any> | null} */
    this.sessionPromise = null;
    this.changes = new Emitter();
  }

  /** The cached session, if it is still valid for at least another minute. */
  get session() {
    const session = storage.get(this.sessionKey);
    if (!session || typeof session.token !== "string") return null;
    const expires = Date.parse(session.expiresAt);
    if (!Number.isFinite(expires) || expires - 60000 < Date.now()) return null;
    return session;
  }

  /** @returns {User | null} */
  get user() {
    return this.session?.user ?? null;
  }

  /** @returns {string | null} */
  get guestName() {
    const name = storage.get(this.guestNameKey);
    return typeof name === "string" && name.trim() ? name : null;
  }

  /** @param {string} name */
  rememberGuestName(name) {
    storage.set(this.guestNameKey, name);
  }

  forgetSession() {
    storage.remove(this.sessionKey);
    this.changes.emit("session");
  }

  /**
   * Does the cached session belong to this identity? A different SSO user on the same browser
   * must not write with the previous user's token.
   * @param {Identity} identity
   */
  sessionMatches(identity) {
    const session = this.session;
    if (!session) return false;
    if (identity.sso) return session.ssoKey === identity.sso.userDataJSONBase64;
    return session.kind === "guest";
  }

  /**
   * Whether a write would have to ask for a name first.
   * @param {Identity} identity
   */
  needsGuestName(identity) {
    return !identity.sso && !this.sessionMatches(identity) && !this.guestName;
  }

  /**
   * Returns a valid token, creating a session when needed (one request at a time).
   * @param {Identity} identity
   * @returns {Promise<string>}
   */
  async ensureSession(identity) {
    if (this.sessionMatches(identity)) return this.session.token;
    if (!this.sessionPromise) {
      this.sessionPromise = this.createSession(identity).finally(() => {
        this.sessionPromise = null;
      });
    }
    const session = await this.sessionPromise;
    return session.token;
  }

  /** @param {Identity} identity */
  async createSession(identity) {
    /** @type {Record<string, unknown>} */
    let body;
    let kind;
    if (identity.sso) {
      body = { sso: identity.sso };
      kind = "sso";
    } else {
      const name = identity.guestName || this.guestName;
      if (!name) throw new ApiError("name required", { code: "name_required" });
      body = { guest: { name } };
      kind = "guest";
    }
    const answer = await this.send("POST", "/sessions", { body });
    const session = {
      token: answer.token,
      user: answer.user,
      expiresAt: answer.expiresAt,
      kind,
      ssoKey: identity.sso ? identity.sso.userDataJSONBase64 : null,
    };
    storage.set(this.sessionKey, session);
    this.changes.emit("session");
    return session;
  }

  /**
   * A read. Sends the token when there is one (private tenants need it); a stale token is
   * dropped and the read retried without it, an SSO identity logs in when the tenant asks.
   * @param {string} path
   * @param {Identity} identity
   * @returns {Promise<any>}
   */
  async read(path, identity) {
    const token = this.session?.token ?? null;
    try {
      return await this.send("GET", path, { token });
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      if (token) {
        this.forgetSession();
        return this.read(path, identity);
      }
      if (identity.sso) {
        const fresh = await this.ensureSession(identity);
        return this.send("GET", path, { token: fresh });
      }
      throw err;
    }
  }

  /**
   * A write: needs a session; a 401 (expired or revoked token) gets one retry with a new
   * session. The body carries a broadcastId, so the retry is applied at most once.
   * @param {string} method
   * @param {string} path
   * @param {Identity} identity
   * @param {unknown} [body]
   */
  async write(method, path, identity, body) {
    const token = await this.ensureSession(identity);
    try {
      return await this.send(method, path, { body, token });
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      this.forgetSession();
      const fresh = await this.ensureSession(identity);
      return this.send(method, path, { body, token: fresh });
    }
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {{body?: unknown, token?: string | null}} [options]
   */
  async send(method, path, options = {}) {
    /** @type {Record<string, string>} */
    const headers = { Accept: "application/json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.token) headers.Authorization = `Bearer ${options.token}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    let response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: controller.signal,
        credentials: "omit",
      });
    } catch (err) {
      const aborted = err && /** @type {any} */ (err).name === "AbortError";
      throw new ApiError(aborted ? "timeout" : "network", {
        code: aborted ? "timeout" : "network",
      });
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const message = data && typeof data.message === "string" ? data.message : "";
      throw new ApiError(message, {
        status: response.status,
        code: data && typeof data.code === "string" ? data.code : `http_${response.status}`,
      });
    }
    return data;
  }
}
