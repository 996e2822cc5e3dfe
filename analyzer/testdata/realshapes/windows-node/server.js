const Koa = require('koa');
const app = new Koa();
app.use(async (ctx) => { ctx.body = 'ok'; });
app.listen(3000);
