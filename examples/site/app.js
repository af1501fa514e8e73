// Classic (non-module) script, loaded with `defer`: fetches data/info.json and shows it.
(() => {
  const status = document.getElementById("info-status");
  const facts = document.getElementById("info");
  const features = document.getElementById("features");

  const addFact = (name, value) => {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = value;
    facts.append(dt, dd);
  };

  fetch("data/info.json")
    .then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    })
    .then((info) => {
      addFact("Name", info.name);
      addFact("Version", info.version);
      addFact("Transport", info.transport);
      addFact("Speaks", info.protocol);
      addFact("Standards", info.standards.join(", "));
      for (const feature of info.features) {
        const li = document.createElement("li");
        li.textContent = feature;
        features.append(li);
      }
      status.textContent = info.description;
      facts.hidden = false;
      features.hidden = false;
    })
    .catch((error) => {
      status.textContent = `Could not load data/info.json: ${error.message}`;
    });

  document.getElementById("classic-status").textContent = "classic app.js ran";
})();
