// The SPARQL query page (query.html): YASGUI on this endpoint, with the example queries as tabs. A file, not
// inline: the page's CSP allows no inline script. The examples come in a JSON data block of the page.
"use strict";
const EXAMPLES = JSON.parse(document.getElementById("mdkg-examples").textContent);
const endpoint = new URL(document.getElementById("yasgui").dataset.endpoint, window.location.href).href;
const yasgui = new Yasgui(document.getElementById("yasgui"), {
  requestConfig: { endpoint: endpoint, method: "POST" },
  copyEndpointOnNewTab: true,
  persistenceId: null,
  autoAddOnInit: false,
  endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }] },
});
function openExample(example, active) {
  const defaults = Yasgui.Tab.getDefaults(yasgui);
  yasgui.addTab(active, {
    ...defaults,
    name: example.name,
    yasqe: { value: example.query },
    requestConfig: { ...defaults.requestConfig, endpoint: endpoint },
  });
}
const bar = document.getElementById("examples");
EXAMPLES.forEach((example, i) => {
  const button = document.createElement("button");
  button.textContent = example.name;
  button.title = example.description;
  button.onclick = () => openExample(example, true);
  bar.appendChild(button);
  openExample(example, i === 0);
});
