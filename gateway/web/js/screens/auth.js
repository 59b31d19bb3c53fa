// Before signing in: sign-up, "check your e-mail", verification, log-in, password reset,
// invitation acceptance.
import { ApiError, post } from "../api.js";
import { navigate } from "../router.js";
import * as session from "../session.js";
import { busy, clearErrors, field, formAlert, formData, h, page, passwordHints, showErrors } from "../ui.js";

function form(onsubmit, ...children) {
  const f = h("form", { novalidate: true, class: "card form" }, formAlert(), ...children);
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(f);
    const button = f.querySelector("button[type=submit]");
    try {
      await busy(button, "Please wait…", () => onsubmit(f, formData(f)));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(f, error);
    }
  });
  return f;
}

function passwordField(label, name = "password") {
  const wrapper = field(label, { name, type: "password", autocomplete: "new-password", required: true });
  wrapper.append(passwordHints(wrapper.querySelector("input")));
  return wrapper;
}

export function signUp() {
  return page(
    "Create your office's account",
    h("p", { class: "lead" }, "One account per office. You can invite your team once you are in."),
    form(
      async (f, data) => {
        try {
          await post("auth/signup", { email: data.email, phone: data.phone, password: data.password });
        } catch (error) {
          if (error.status === 409) {
            const office = error.info?.office_name;
            error.message = `${office ? `“${office}”` : "An office"} already uses this e-mail or phone number. Ask its admin to invite you (Office settings → Users), or log in.`;
          }
          throw error;
        }
        navigate(`/check-email?email=${encodeURIComponent(data.email)}`);
      },
      field("Office e-mail", { name: "email", type: "email", autocomplete: "email", required: true }, { hint: "We send a link to this address to confirm it." }),
      field("Main phone number", { name: "phone", type: "tel", autocomplete: "tel", required: true }, { hint: "For example +1 416 555 0199" }),
      passwordField("Password"),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create account")),
      h("p", {}, "Already have an account? ", h("a", { href: "/login" }, "Log in")),
    ),
  );
}

function resendButton(payload, label = "Send the link again") {
  const status = h("p", { role: "status", class: "muted" });
  const button = h("button", { type: "button" }, label);
  button.addEventListener("click", () =>
    busy(button, "Sending…", async () => {
      try {
        await post("auth/resend", payload());
        status.textContent = "A new link is on its way. It may take a minute to arrive; check the spam folder too.";
      } catch (error) {
        status.textContent = error.message;
      }
    }),
  );
  return h("div", { class: "resend" }, button, status);
}

export function checkEmail({ query }) {
  const email = query.get("email") || "";
  return page(
    "Check your e-mail",
    h(
      "div",
      { class: "card" },
      h("p", { class: "lead" }, "We sent a confirmation link to ", h("strong", {}, email || "your office e-mail"), "."),
      h("p", {}, "Open it to confirm the address, then log in. The link works for a limited time."),
      email ? resendButton(() => ({ email })) : null,
      h("p", {}, h("a", { href: "/login" }, "Go to log in")),
    ),
  );
}

export async function verify({ query, render }) {
  const token = query.get("token") || "";
  render(page("Confirming your e-mail…", h("p", { role: "status" }, "One moment.")));
  try {
    const result = await post("auth/verify", { token });
    return page(
      "Your e-mail is confirmed",
      h("div", { class: "card" }, h("p", { class: "lead" }, `${result.email} is confirmed.`), h("a", { class: "button primary", href: `/login?email=${encodeURIComponent(result.email)}` }, "Log in")),
    );
  } catch (error) {
    if (error.status === 410) {
      return page(
        "This link has expired",
        h("div", { class: "card" }, h("p", {}, "Links work for a limited time. Ask for a fresh one: it goes to the same address."), resendButton(() => ({ token }), "Send me a new link")),
      );
    }
    return page(
      "This link cannot be used",
      h("div", { class: "card" }, h("p", {}, "It was already used, or it is incomplete. If you already confirmed, just log in."), h("a", { class: "button", href: "/login" }, "Log in")),
    );
  }
}

export function logIn({ query }) {
  const next = query.get("next");
  const unverified = h("div", { hidden: true, class: "notice" });
  const f = form(
    async (_f, data) => {
      unverified.hidden = true;
      try {
        await post("auth/login", { email: data.email, password: data.password, session: "cookie" });
      } catch (error) {
        if (error.status === 403 && error.info?.unverified) {
          unverified.replaceChildren(h("p", {}, "Please confirm your e-mail address first: open the link we sent you."), resendButton(() => ({ email: data.email })));
          unverified.hidden = false;
          return;
        }
        if (error.status === 401) error.message = "The e-mail or the password is not right (after many failed attempts the account is locked for 15 minutes).";
        throw error;
      }
      const me = await session.load({ fresh: true });
      const safeNext = next && next.startsWith("/") && !next.startsWith("//") ? next : null;
      navigate(!me.office.setup.complete && me.role === "admin" ? "/setup" : safeNext || "/dashboard");
    },
    field("E-mail", { name: "email", type: "email", autocomplete: "username", required: true, value: query.get("email") || "" }),
    field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true }),
    unverified,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Log in")),
    h("p", {}, h("a", { href: "/reset-password" }, "Forgot your password?"), " · ", h("a", { href: "/signup" }, "Create an office account")),
  );
  // A 401 has no field: show it at the top of the form.
  return page("Log in", f);
}

export function resetPassword({ query }) {
  const token = query.get("token");
  if (!token) {
    const done = h("p", { role: "status", class: "notice", hidden: true });
    return page(
      "Reset your password",
      form(
        async (_f, data) => {
          await post("auth/password-reset", { email: data.email });
          done.textContent = "If the address has an account, a reset link is on its way. It works for 30 minutes.";
          done.hidden = false;
        },
        field("E-mail", { name: "email", type: "email", autocomplete: "username", required: true }),
        done,
        h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Send the reset link")),
        h("p", {}, h("a", { href: "/login" }, "Back to log in")),
      ),
    );
  }
  return page(
    "Choose a new password",
    form(
      async (f, data) => {
        try {
          await post("auth/password-reset/confirm", { token, password: data.password });
        } catch (error) {
          if (error.status === 410) throw new ApiError(410, { detail: "This reset link has expired. Ask for a new one from the log-in page" });
          throw error;
        }
        f.replaceWith(h("div", { class: "card" }, h("p", { class: "lead", role: "status" }, "Your password is changed. Every other session was signed out."), h("a", { class: "button primary", href: "/login" }, "Log in")));
      },
      passwordField("New password"),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Set the new password")),
    ),
  );
}

export async function invitation({ query, render }) {
  const token = query.get("token") || "";
  render(page("Invitation", h("p", { role: "status" }, "Opening the invitation…")));
  let preview;
  try {
    preview = await post("invitations/preview", { token });
  } catch (error) {
    return page("This invitation cannot be used", h("div", { class: "card" }, h("p", {}, error.status === 410 ? "It has expired: ask the office to invite you again." : "It was already used, withdrawn, or the link is incomplete."), h("a", { href: "/login" }, "Log in")));
  }
  const from = preview.from_office_name || "An office";
  const staff = preview.kind === "staff";
  const intro = staff
    ? `${from} invites ${preview.email} to join its team on Bridgework.`
    : `${from} invites ${preview.email} to connect as colleagues, to send each other referrals.`;
  const needsAccount = !preview.account_exists;
  return page(
    staff ? "Join your team" : "Colleague invitation",
    h("p", { class: "lead" }, intro),
    preview.message ? h("blockquote", {}, preview.message) : null,
    form(
      async (f, data) => {
        const body = { token };
        if (needsAccount) {
          body.password = data.password;
          if (staff) body.name = data.name;
          else body.phone = data.phone;
        }
        await post("invitations/accept", body);
        f.replaceWith(
          h(
            "div",
            { class: "card" },
            h("p", { class: "lead", role: "status" }, "Invitation accepted."),
            h("a", { class: "button primary", href: `/login?email=${encodeURIComponent(preview.email)}` }, "Log in"),
          ),
        );
      },
      needsAccount && staff ? field("Your name", { name: "name", autocomplete: "name", required: true }) : null,
      needsAccount && !staff ? field("Office main phone number", { name: "phone", type: "tel", autocomplete: "tel", required: true }) : null,
      needsAccount ? passwordField("Choose a password") : h("p", {}, `${preview.email} already has an account: accepting links it.`),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Accept the invitation")),
    ),
  );
}
