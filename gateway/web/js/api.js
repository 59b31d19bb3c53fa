// The public JSON API, called with the browser session (cookies + the CSRF header).
// Every error becomes an ApiError whose `fields` maps a form field to its message.

const CSRF_COOKIE = "bw_csrf";
const CSRF_HEADER = "X-CSRF-Token";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** An answer other than 2xx, in plain words, with the fields it concerns. */
export class ApiError extends Error {
  constructor(status, body) {
    super(plainMessage(status, body));
    this.status = status;
    this.body = body || {};
    this.info = this.body.info || null;
    this.requestId = this.body.request_id || null;
    /** [{field, message}] with the request part ("body.", "query.") taken off. */
    this.errors = (this.body.errors || []).map((e) => ({
      field: String(e.field || "").replace(/^(body|query|path)\./, ""),
      message: plainField(e.message),
    }));
  }
}

function plainMessage(status, body) {
  if (status === 0) return "The server could not be reached. Check the connection and try again.";
  if (status === 401) return "Your session has ended. Please log in again.";
  if (status === 403 && !body?.detail) return "You are not allowed to do this.";
  if (status === 404) return body?.detail && !/^not found$/i.test(body.detail) ? capital(body.detail) : "It could not be found (or it is not shared with your office).";
  if (status === 413) return body?.detail ? capital(body.detail) : "The file is too large.";
  if (status === 429) return "Too many attempts. Please wait a moment and try again.";
  if (status >= 500) return `Something went wrong on our side. Please try again${body?.request_id ? ` (reference ${body.request_id})` : ""}.`;
  return body?.detail ? capital(body.detail) : `The request failed (${status}).`;
}

// The validator's own wording, for the few messages a form commonly meets, in plain words.
const PLAIN = [
  [/^Field required$/, () => "Required."],
  [/^String should have at least 1 character/, () => "Required."],
  [/^String should have at most (\d+) characters?/, (m) => `Too long: at most ${m[1]} characters.`],
  [/^Input should be a valid UUID/, () => "Choose one from the list."],
  [/^Input should be a valid date/, () => "Enter a valid date."],
  [/^Input should be a valid datetime/, () => "Enter a valid date and time."],
  [/^Input should be a valid URL|^URL scheme should be/, () => "Enter a web address starting with https://."],
];

function plainField(message) {
  const text = String(message || "");
  for (const [pattern, say] of PLAIN) {
    const found = pattern.exec(text);
    if (found) return say(found);
  }
  return text;
}

function capital(text) {
  const s = String(text);
  return s.charAt(0).toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : ".");
}

export function csrfToken() {
  const match = document.cookie.split("; ").find((c) => c.startsWith(`${CSRF_COOKIE}=`));
  return match ? decodeURIComponent(match.slice(CSRF_COOKIE.length + 1)) : "";
}

/** True when the browser holds a session (the readable CSRF cookie comes with it). */
export function hasSession() {
  return csrfToken() !== "";
}

let refreshing = null;

async function refreshSession() {
  refreshing ??= fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: { [CSRF_HEADER]: csrfToken(), Accept: "application/json" },
    credentials: "same-origin",
  })
    .then((r) => r.ok)
    .catch(() => false)
    .finally(() => {
      setTimeout(() => (refreshing = null), 0);
    });
  return refreshing;
}

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

/**
 * Call the API. `body` is sent as JSON; `query` is an object of query parameters;
 * `idempotent: true` adds an Idempotency-Key (retries of the same call reuse `key`).
 * Answers the parsed JSON (or null for 204). Throws ApiError.
 */
export async function api(method, path, { body, query, key, idempotent, retried } = {}) {
  let url = path.startsWith("/") ? path : `/api/v1/${path}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === "") continue;
      for (const v of Array.isArray(value) ? value : [value]) params.append(name, v);
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) headers[CSRF_HEADER] = csrfToken();
  if (idempotent || key) headers["Idempotency-Key"] = key || newKey();
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, null);
  }
  if (response.status === 401 && !retried && !url.startsWith("/api/v1/auth/") && hasSession()) {
    if (await refreshSession()) return api(method, path, { body, query, key: headers["Idempotency-Key"], retried: true });
  }
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const get = (path, query) => api("GET", path, { query });
export const post = (path, body, options = {}) => api("POST", path, { body, ...options });
export const patch = (path, body) => api("PATCH", path, { body });
export const del = (path) => api("DELETE", path);

/**
 * Upload one file (multipart, part "file") with progress: onProgress(fraction 0..1).
 * Answers the FileOut; rejects with ApiError (413 too large, 409 too many, 422 refused).
 */
export function upload(path, file, onProgress, { retried = false } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/${path}`);
    xhr.setRequestHeader(CSRF_HEADER, csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded / event.total);
    };
    xhr.onerror = () => reject(new ApiError(0, null));
    xhr.onload = async () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.(1);
        resolve(data);
      } else if (xhr.status === 401 && !retried && (await refreshSession())) {
        upload(path, file, onProgress, { retried: true }).then(resolve, reject);
      } else {
        reject(new ApiError(xhr.status, data));
      }
    };
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

export async function logOut() {
  try {
    await fetch("/api/v1/auth/logout", {
      method: "POST",
      headers: { [CSRF_HEADER]: csrfToken() },
      credentials: "same-origin",
    });
  } catch {
    /* the cookies are cleared by the answer; offline, they expire */
  }
}
