// The web app: routes, the signed-in navigation, and the page frame.
import { logOut } from "./api.js";
import { match, navigate, route, start } from "./router.js";
import * as session from "./session.js";
import { h } from "./ui.js";
import * as auth from "./screens/auth.js";
import * as setup from "./screens/setup.js";
import * as dashboard from "./screens/dashboard.js";
import * as refer from "./screens/refer.js";
import * as referral from "./screens/referral.js";
import * as settings from "./screens/settings.js";
import * as cases from "./screens/cases.js";
import * as caseDetail from "./screens/case.js";
import * as newcase from "./screens/newcase.js";
import * as lab from "./screens/lab.js";
import * as notifications from "./screens/notifications.js";

const PUBLIC = { public: true };
route("/", () => navigate(session.current() ? "/dashboard" : "/login", { replace: true }));
route("/signup", auth.signUp, PUBLIC);
route("/check-email", auth.checkEmail, PUBLIC);
route("/verify", auth.verify, PUBLIC);
route("/login", auth.logIn, PUBLIC);
route("/reset-password", auth.resetPassword, PUBLIC);
route("/invitation", auth.invitation, PUBLIC);
route("/setup", setup.wizard, { setup: true });
route("/dashboard", dashboard.show);
route("/referrals", dashboard.list);
route("/referrals/new", refer.show);
route("/referrals/:id/edit", refer.show);
route("/referrals/:id", referral.show);
route("/settings", settings.show);
route("/cases", cases.list);
route("/cases/new", newcase.show);
route("/cases/:id/confirmation", newcase.confirmation);
route("/cases/:id", caseDetail.show);
route("/lab", lab.show);

const main = document.getElementById("main");

function renderNav(me) {
  const nav = document.getElementById("nav");
  if (!me) {
    notifications.stop();
    nav.replaceChildren(
      h("a", { href: "/login" }, "Log in"),
      h("a", { href: "/signup", class: "button small" }, "Sign up"),
    );
    return;
  }
  const here = location.pathname;
  const link = (href, text, active) => h("a", { href, "aria-current": active ? "page" : null }, text);
  const ready = me.office.setup.complete;
  const items = [
    ready ? link("/dashboard", "Dashboard", here === "/dashboard") : null,
    ready ? link("/referrals/new", "Refer a patient", here === "/referrals/new") : null,
    ready ? link("/referrals?box=received", "Referrals", here === "/referrals") : null,
    ready ? link("/cases", "Lab cases", here === "/cases" || (here.startsWith("/cases/") && here !== "/cases/new")) : null,
    ready && me.office.kind !== "lab" ? link("/cases/new", "Send a case", here === "/cases/new") : null,
    ready && me.office.kind === "lab" ? link("/lab", "Slots and turnaround", here === "/lab") : null,
    ready ? link("/settings", "Office settings", here === "/settings") : null,
    ready ? notifications.bell() : null,
    h("span", { class: "who", title: me.user?.email || "" }, me.office.name || me.user?.name || me.user?.email || ""),
    h(
      "button",
      {
        type: "button",
        class: "link-button",
        onclick: async () => {
          notifications.stop();
          await logOut();
          session.forget();
          navigate("/login");
        },
      },
      "Log out",
    ),
  ];
  nav.replaceChildren(...items.filter(Boolean));
}

// Each navigation starts a render; one overtaken by a later navigation shows nothing.
let generation = 0;

async function render() {
  const mine = ++generation;
  const current = () => mine === generation;
  const path = location.pathname;
  const found = match(path);
  let me = null;
  try {
    me = await session.load();
  } catch (error) {
    if (current()) main.replaceChildren(h("p", { class: "form-alert", role: "alert" }, error.message));
    return;
  }
  if (!current()) return;
  renderNav(me);
  if (!found) {
    show(h("section", { class: "page" }, h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, h("a", { href: "/" }, "Go to the start page"))));
    return;
  }
  const query = new URLSearchParams(location.search);
  if (!found.options.public && !me && path !== "/") {
    return navigate(`/login?next=${encodeURIComponent(path + location.search)}`, { replace: true });
  }
  if (me && !found.options.public && !found.options.setup && !me.office.setup.complete && me.role === "admin") {
    return navigate("/setup", { replace: true });
  }
  let view;
  try {
    view = await found.handler({ params: found.params, query, path, me, render: (v) => current() && show(v) });
  } catch (error) {
    if (!current()) return;
    if (error?.status === 401) {
      session.forget();
      return navigate(`/login?next=${encodeURIComponent(path + location.search)}`, { replace: true });
    }
    view = h(
      "section",
      { class: "page" },
      h("h1", { tabindex: "-1" }, "This page could not be shown"),
      h("p", { class: "form-alert", role: "alert" }, error?.message || String(error)),
      h("p", {}, h("a", { href: location.pathname + location.search }, "Try again"), " · ", h("a", { href: "/dashboard" }, "Dashboard")),
    );
  }
  if (view instanceof Node && current()) show(view);
}

/** Put a page in <main>, name the tab after its heading and move focus there. */
export function show(view) {
  main.replaceChildren(view);
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · Bridgework` : "Bridgework";
  (heading || main).focus({ preventScroll: false });
}

start(render);
