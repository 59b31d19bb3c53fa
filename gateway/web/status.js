// Shows /api/v1/status: each service's version and whether it answers.
const summary = document.getElementById("summary");
const rows = document.getElementById("services");

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

async function refresh() {
  try {
    const response = await fetch("/api/v1/status", { headers: { Accept: "application/json" } });
    const status = await response.json();
    rows.replaceChildren(
      ...status.services.map((service) => {
        const tr = document.createElement("tr");
        tr.append(
          cell(service.name),
          cell(service.version ?? "—"),
          service.ready ? cell("running", "state-ok") : cell(service.problem ?? "not answering", "state-bad"),
        );
        return tr;
      }),
    );
    summary.textContent = status.ready ? "All services are running." : "Some services are not answering.";
  } catch (error) {
    summary.textContent = "The gateway could not be reached.";
  }
}

refresh();
setInterval(refresh, 5000);
