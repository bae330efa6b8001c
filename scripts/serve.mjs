// A static HTTP server on loopback: files by path below given roots, with HTTP range
// requests (206), a count of the bytes sent per path, and folder listings as JSON
// (GET /list/<root>/<folder>). The browser tests of the npm package and of the explorer
// use it, and `make web` serves the explorer with it:
//
//   node scripts/serve.mjs web-demo [--port 8080]

import { createServer } from 'node:http';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every file below `dir`, as paths relative to it. */
export function walk(dir, base = dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full, base));
    else out.push(relative(base, full));
  }
  return out.sort();
}

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
};

/** Starts a server for `roots` ({ prefix: folder }; the prefix '' serves every path no
 * other prefix claims) on `port` (0: any free one); resolves to { url, sent, close }.
 * `hold(path)` may return a promise: the response waits for it, so that a test can keep a
 * page in the state it is in before that file arrives. */
export function serve(roots, port = 0, { hold } = {}) {
  const sent = new Map();
  const resolvePath = (urlPath) => {
    const [, prefix, ...rest] = decodeURIComponent(urlPath).split('/');
    let base = roots[prefix];
    let parts = rest;
    if (!base && roots[''] !== undefined) {
      base = roots[''];
      parts = [prefix, ...rest];
    }
    if (!base) return null;
    const full = normalize(join(base, ...parts));
    if (full !== base && !full.startsWith(base + sep)) return null;
    return full;
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    await hold?.(url.pathname);
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
    let file = resolvePath(url.pathname);
    // A folder serves its index.html (the explorer at /).
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
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
    server.listen(port, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        sent,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

// As a command: serve one folder at the root, e.g. the explorer (`make web`).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const port = portAt >= 0 ? Number(args[portAt + 1]) : 8080;
  const folder = resolve(args.find((a, i) => !a.startsWith('--') && i !== portAt + 1) ?? '.');
  const { url } = await serve({ '': folder }, port);
  console.log(`Serving ${folder} at ${url}/ (Ctrl+C stops)`);
}
