const express = require('express');
const maxmind = require('maxmind');

const app = express();
const port = process.env.PORT || 3000;

maxmind.open('/usr/src/app/data/GeoLite2-City.mmdb').then((lookup) => {
  app.get('/healthz', (req, res) => res.send('ok'));
  app.get('/:ip', (req, res) => res.json(lookup.get(req.params.ip) || {}));
  app.listen(port, () => console.log(`listening on ${port}`));
});
