const express = require("express");
const morgan = require("morgan");
const path = require("path");

const port = Number(process.env.PORT || 3000);
const app = express();

app.use(morgan("combined"));
app.use(express.static(path.join(__dirname, "public")));

app.get("/healthz", (req, res) => {
  res.json({ status: "ok", uptime: process.uptime() });
});

app.get("/release", (req, res) => {
  res.json({
    version: process.env.RELEASE || "unreleased",
    builtAt: process.env.BUILT_AT || null,
  });
});

// Exported so the tests can start the app on a random port.
module.exports = app;

if (require.main === module) {
  app.listen(port, () => {
    console.log(`stage server listening on ${port}`);
  });
}
