// Client-side routing with the History API: /referrals/<id> style paths, focus moved to
// the new page's heading, same-origin links handled without a reload.

const routes = [];
let renderRoute = null;

/** route("/referrals/:id", handler): handler({params, query, path}) */
export function route(pattern, handler, options = {}) {
  const names = [];
  const regex = new RegExp(
    `^${pattern.replace(/\/:([a-z_]+)/g, (_, name) => {
      names.push(name);
      return "/([^/]+)";
    })}/?$`,
  );
  routes.push({ regex, names, handler, options });
}

export function match(path) {
  for (const r of routes) {
    const found = r.regex.exec(path);
    if (found) {
      const params = Object.fromEntries(r.names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { ...r, params };
    }
  }
  return null;
}

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  return renderRoute?.();
}

export function start(render) {
  renderRoute = render;
  window.addEventListener("popstate", () => render());
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest("a[href]");
    if (!link || link.target || link.hasAttribute("download") || link.dataset.external !== undefined) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/") || /\.[a-z0-9]+$/i.test(url.pathname) || url.pathname === "/docs") return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  return render();
}
