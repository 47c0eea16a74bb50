// A bare node:http server that answers fixed responses, the baseline the platform is measured against.
// It receives its routes from the parent over IPC, listens on a free loopback port and reports the port back.
import http from 'node:http';

process.once('message', (message) => {
  const routes = new Map(
    message.routes.map((route) => {
      const body = Buffer.from(route.body, 'base64');
      return [route.path, { status: route.status, headers: { ...route.headers, 'content-type': route.contentType, 'content-length': body.length }, body }];
    }),
  );

  const server = http.createServer((request, response) => {
    const route = routes.get(request.url);
    if (!route) {
      response.writeHead(404, { 'content-length': 0 });
      response.end();
      return;
    }
    response.writeHead(route.status, route.headers);
    response.end(route.body);
  });

  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.once('disconnect', shutdown);

  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
});
