// A static HTTP server on loopback for the browser tests: files by path below given roots,
// with HTTP range requests (206) and a count of the bytes sent per path, and folder
// listings as JSON (GET /list/<root>/<folder>).

import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

import { walk } from './setup.mjs';

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
};

/** Starts a server for `roots` ({ prefix: folder }); resolves to { url, sent, close }. */
export function serve(roots) {
  const sent = new Map();
  const resolvePath = (urlPath) => {
    const [, prefix, ...rest] = decodeURIComponent(urlPath).split('/');
    const base = roots[prefix];
    if (!base) return null;
    const full = normalize(join(base, ...rest));
    if (full !== base && !full.startsWith(base + sep)) return null;
    return full;
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname.startsWith('/list/')) {
      const dir = resolvePath(url.pathname.slice('/list'.length));
      if (!dir || !existsSync(dir)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(walk(dir)));
      return;
    }
    const file = resolvePath(url.pathname);
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const size = statSync(file).size;
    const headers = {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
      'last-modified': statSync(file).mtime.toUTCString(),
      'cache-control': 'no-store',
    };
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      if (range[1] === '') {
        start = Math.max(0, size - Number(range[2]));
      } else {
        start = Number(range[1]);
        if (range[2] !== '') end = Math.min(end, Number(range[2]));
      }
      if (start >= size || start > end) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['content-length'] = String(end - start + 1);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    sent.set(url.pathname, (sent.get(url.pathname) ?? 0) + end - start + 1);
    createReadStream(file, { start, end }).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        sent,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}
