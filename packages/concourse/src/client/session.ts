/**
 * One logged-in conversation with a Concourse: the password grant that `fly login -u -p` makes
 * (reference concourse.md §2.2), the bearer token it gives, and every request sent with it.
 *
 * Invariants: the password and the token are only ever put in request headers and the token form,
 * never in a failure's message. A token is replaced before its `expires_in` runs out, and a 401 on
 * an API route (the server forgot or expired the token early) logs in again once and repeats the
 * request; a second 401 is the failure. Bodies are given as functions so that a repeat can send a
 * fresh one (an upload's stream can only be read once). undici is loaded on the first request, so
 * that what imports this package for rendering pipelines does not load an HTTP client.
 */
import type { Agent, Dispatcher } from "undici";
import { err, ok, type Result } from "@rbuild/core";
import type { ConcourseFailure } from "./types.js";

export interface ConcourseTarget {
  /** The Concourse's URL, e.g. `https://ci.example.org` (a trailing `/` is ignored). */
  readonly url: string;
  readonly team: string;
  readonly username: string;
  readonly password: string;
  /** Connect, headers and (except for event streams) between-chunks timeout; 30 s by default. */
  readonly timeoutMs?: number;
  /** Milliseconds since the epoch; `Date.now` by default (tests pass a clock to expire tokens). */
  readonly now?: () => number;
}

export interface Send {
  readonly method: Dispatcher.HttpMethod;
  /** From the root, e.g. `/api/v1/builds/3`. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: () => string | Buffer | NodeJS.ReadableStream;
  /** Time out between body chunks (false for event streams, where a quiet task sends nothing for long). */
  readonly bodyTimeout?: boolean;
  readonly signal?: AbortSignal;
}

/** fly's OAuth client (atc/atccmd/command.go): every Concourse accepts it for the password grant. */
const FLY_CLIENT = `Basic ${Buffer.from("fly:Zmx5").toString("base64")}`;
const SCOPES = "openid profile email federated:id groups";
/** A token this close to its expiry is replaced before it is used. */
const EXPIRY_MARGIN_MS = 60_000;
/** What an error answer's text is read for: the message only. */
const ERROR_TEXT_BYTES = 4096;

interface Token {
  readonly header: string;
  readonly expiresAt: number;
}

export class Session {
  readonly target: ConcourseTarget;
  readonly base: string;
  readonly #timeout: number;
  #http: Promise<{ agent: Agent; request: typeof import("./http-client.js").request }> | undefined;
  readonly #now: () => number;
  #token: Token | undefined;

  constructor(target: ConcourseTarget) {
    this.target = target;
    this.base = target.url.replace(/\/+$/, "");
    this.#timeout = target.timeoutMs ?? 30_000;
    this.#now = target.now ?? Date.now;
  }

  #connect(): Promise<{ agent: Agent; request: typeof import("./http-client.js").request }> {
    const timeout = this.#timeout;
    this.#http ??= import("./http-client.js").then(({ Agent, request }) => ({ agent: new Agent({ connectTimeout: timeout, headersTimeout: timeout, bodyTimeout: timeout }), request }));
    return this.#http;
  }

  /** Logs in with the password grant (`POST /sky/issuer/token`), replacing any token held. */
  async login(): Promise<Result<void, ConcourseFailure>> {
    const url = `${this.base}/sky/issuer/token`;
    const form = new URLSearchParams({ grant_type: "password", username: this.target.username, password: this.target.password, scope: SCOPES });
    const { agent, request } = await this.#connect();
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: "POST",
        dispatcher: agent,
        headers: { authorization: FLY_CLIENT, "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
    } catch (error) {
      return err(unreachable(url, error));
    }
    const text = (await readText(response, 64 * 1024)).trim();
    if (response.statusCode !== 200) {
      return err({
        reason: "login-failed",
        url,
        status: response.statusCode,
        message: `Logging in to ${this.base} as "${this.target.username}" failed: ${url} answered ${response.statusCode}${detail(text)}. Check the username and password (and that the user may log in with a password).`,
      });
    }
    let answer: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      answer = {};
    }
    if (typeof answer.access_token !== "string" || answer.access_token === "") {
      return err({ reason: "bad-answer", url, status: 200, message: `Logging in to ${this.base}: ${url} answered without an access_token; is ${this.base} a Concourse (6.1 or later)?` });
    }
    const type = typeof answer.token_type === "string" && answer.token_type !== "" ? answer.token_type : "bearer";
    const seconds = typeof answer.expires_in === "number" ? answer.expires_in : 3600;
    // fly sends token_type then the token; Concourse takes the scheme in any case (§2.1).
    this.#token = { header: `${type[0]!.toUpperCase()}${type.slice(1)} ${answer.access_token}`, expiresAt: this.#now() + seconds * 1000 };
    return ok(undefined);
  }

  /**
   * Sends one request with the bearer token, logging in first when there is none or it is about to
   * expire, and once more after a 401. Any status comes back as a response: the caller judges it.
   */
  async send(what: Send): Promise<Result<Dispatcher.ResponseData, ConcourseFailure>> {
    for (let attempt = 0; ; attempt++) {
      if (this.#token === undefined || this.#token.expiresAt - EXPIRY_MARGIN_MS <= this.#now()) {
        const login = await this.login();
        if (!login.ok) return login;
      }
      const url = `${this.base}${what.path}`;
      const { agent, request } = await this.#connect();
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          method: what.method,
          dispatcher: agent,
          headers: { ...what.headers, authorization: this.#token!.header },
          body: what.body?.() as Dispatcher.DispatchOptions["body"],
          signal: what.signal,
          ...(what.bodyTimeout === false ? { bodyTimeout: 0 } : {}),
        });
      } catch (error) {
        return err(unreachable(url, error));
      }
      if (response.statusCode !== 401 || attempt > 0) return ok(response);
      discard(response);
      this.#token = undefined; // Expired or revoked on the server's side: log in again and repeat.
    }
  }

  /** The failure an unexpected answer means, with Concourse's text; `what` says what was being done. */
  async failure(response: Dispatcher.ResponseData, path: string, what: string): Promise<ConcourseFailure> {
    const url = `${this.base}${path}`;
    const text = (await readText(response, ERROR_TEXT_BYTES)).trim();
    const status = response.statusCode;
    const { team, username } = this.target;
    const at = `${what}: ${url} answered ${status}${detail(text)}`;
    switch (status) {
      case 401:
        return { reason: "unauthorized", url, status, message: `${at}. The token was refused even after logging in again as "${username}"; check the user's access.` };
      case 403:
        return { reason: "forbidden", url, status, message: `${at}. User "${username}" is not allowed in team "${team}"; check --team, or ask an owner of the team to add the user.` };
      case 404:
        return { reason: "not-found", url, status, message: `${at}. Check the team ("${team}") and the names in the request.` };
      default:
        return { reason: "status", url, status, message: `${at}.` };
    }
  }

  /** Closes the connections (the agent keeps them for reuse). */
  async close(): Promise<void> {
    if (this.#http !== undefined) await (await this.#http).agent.close();
  }
}

function detail(text: string): string {
  if (text === "") return "";
  const title = /^</.test(text) ? /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim() : undefined;
  return ` (${(title ?? text).slice(0, 300)})`;
}

/** Closes an answer's body unread (undici reports the close as an error: it is expected here). */
export function discard(response: Dispatcher.ResponseData): void {
  response.body.on("error", () => {});
  response.body.destroy();
}

/** An answer's body as text, at most `limit` bytes (the rest is dropped). */
export async function readText(response: Dispatcher.ResponseData, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      const bytes = chunk as Buffer;
      if (size < limit) chunks.push(bytes.subarray(0, limit - size));
      size += bytes.length;
      if (size >= limit) break;
    }
  } catch {
    // A body cut short: what arrived is the text.
  } finally {
    discard(response);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function unreachable(url: string, error: unknown): ConcourseFailure {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message || code || String(error);
  return { reason: "unreachable", url, message: `No answer from ${url}: ${message}${code !== undefined && !message.includes(code) ? ` (${code})` : ""}. Check the URL and that the Concourse is up.` };
}
