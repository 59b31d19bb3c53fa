// Who is signed in: GET /api/v1/me, cached until a change or a log-out.
import { get, hasSession } from "./api.js";

let me = null;

export function current() {
  return me;
}

/** The signed-in person and office, or null (no session, or it has ended). */
export async function load({ fresh = false } = {}) {
  if (me && !fresh) return me;
  if (!hasSession()) {
    me = null;
    return null;
  }
  try {
    me = await get("me");
  } catch (error) {
    if (error.status === 401) me = null;
    else throw error;
  }
  return me;
}

export function forget() {
  me = null;
}

export const notation = () => me?.office?.notation || "universal";
export const isAdmin = () => me?.role === "admin";
