const fastify = require('fastify')({ logger: true });
fastify.get('/healthz', async () => ({ ok: true }));
fastify.listen({ port: 8080, host: '0.0.0.0' });
