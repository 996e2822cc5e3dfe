"use strict";fetch("/release").then(function(r){return r.json()}).then(function(d){var e=document.createElement("p");e.textContent="Running "+d.version;document.body.appendChild(e)});
//# sourceMappingURL=app.js.map
