// End-to-end tests of ws2apid in ocpp mode, driven by ocpp-rpc (an OCPP-J client
// library we did not write) against the real daemon and a real HTTP API server.
//
//   WS2APID=/path/to/ws2apid node --test --test-reporter=tap test.mjs
//   node test.mjs /path/to/ws2apid
//
// Everything listens on 127.0.0.1 with OS-chosen ports; every wait is bounded.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import rpc from 'ocpp-rpc';

const { RPCClient, createRPCError, NOREPLY } = rpc;

const DAEMON = process.env.WS2APID || process.argv[2];
if (!DAEMON || !existsSync(DAEMON)) {
    console.error(`test.mjs: path of ws2apid needed (WS2APID=... or first argument), got ${JSON.stringify(DAEMON)}`);
    process.exit(2);
}

const WAIT_MS = 8000;   // longest wait for one expected event
const TEST_MS = 30000;  // per test

// ---------------------------------------------------------------------------
// The API: a real HTTP server implementing the API side of SPEC's OCPP mode.
// Records every request; tests wait on predicates over the record.
class RecordingApi {
    constructor() {
        this.requests = [];
        this.waiters = [];
        this.passwords = new Map();  // ClientId -> password accepted by /connect
        this.certificates = new Map();  // ClientId -> Client-Cert header accepted by /connect
        this.onCall = null;          // (rec) => {status, body, contentType} | 'destroy'
    }

    async start() {
        this.server = http.createServer((req, res) => this.#handle(req, res));
        this.server.keepAliveTimeout = 60000;
        await new Promise((resolve, reject) => {
            this.server.once('error', reject);
            this.server.listen(0, '127.0.0.1', resolve);
        });
        this.port = this.server.address().port;
    }

    async stop() {
        this.server.closeAllConnections?.();
        await new Promise(resolve => this.server.close(() => resolve()));
    }

    mark() { return this.requests.length; }

    // Resolves with the first recorded request at index >= from that matches.
    waitFor(pred, what, from = 0) {
        const found = this.requests.slice(from).find(pred);
        if (found) return Promise.resolve(found);
        return new Promise((resolve, reject) => {
            const w = { pred, from, resolve };
            w.timer = setTimeout(() => {
                this.waiters = this.waiters.filter(x => x !== w);
                const seen = this.requests.slice(from).map(r => `${r.method} ${r.path} ${r.body}`);
                reject(new Error(`API did not see ${what} within ${WAIT_MS} ms; it saw since: ${JSON.stringify(seen)}`));
            }, WAIT_MS);
            this.waiters.push(w);
        });
    }

    #record(rec) {
        rec.index = this.requests.length;
        this.requests.push(rec);
        for (const w of [...this.waiters]) {
            if (rec.index >= w.from && w.pred(rec)) {
                clearTimeout(w.timer);
                this.waiters = this.waiters.filter(x => x !== w);
                w.resolve(rec);
            }
        }
    }

    #handle(req, res) {
        const chunks = [];
        req.on('data', c => chunks.push(c));
        req.on('end', () => {
            const url = new URL(req.url, 'http://api');
            const segs = url.pathname.split('/').slice(1).map(decodeURIComponent);
            const body = Buffer.concat(chunks).toString('utf8');
            let json;
            try { json = JSON.parse(body); } catch { json = undefined; }
            // <api> is http://127.0.0.1:PORT/ocpp
            const [base, kind, a, b, c] = segs;
            const rec = {
                method: req.method, path: url.pathname, query: url.search, base, kind,
                headers: req.headers, body, json,
            };
            if (['call', 'result', 'error', 'send'].includes(kind)) {
                Object.assign(rec, { action: a, clientId: b, messageId: c });
            }

            const answer = (status, text, headers = {}) => {
                rec.status = status;
                this.#record(rec);
                res.writeHead(status, { 'Content-Length': Buffer.byteLength(text), ...headers });
                res.end(text);
            };

            if (req.method !== 'POST' || base !== 'ocpp') return answer(404, 'not found');
            switch (kind) {
            case 'connect': {
                const id = json;
                const expected = this.passwords.get(id);
                // Profile 2: Basic auth; profile 3: the station's own certificate.
                const good = (expected !== undefined && req.headers.authorization === basic(id, expected)) ||
                    (this.certificates.has(id) && req.headers['client-cert'] === this.certificates.get(id));
                if (!good) {
                    return answer(401, '{"error":"bad credentials"}', {
                        'Content-Type': 'application/json',
                        'WWW-Authenticate': 'Basic realm="ocpp"',
                    });
                }
                return answer(200, '"ok"', { 'Content-Type': 'application/json' });
            }
            case 'call': {
                const r = this.onCall ? this.onCall(rec) : { status: 404, body: { code: 'NotImplemented', description: 'no handler', details: {} } };
                if (r === 'destroy') {
                    rec.status = 'destroyed';
                    this.#record(rec);
                    req.socket.destroy();
                    return;
                }
                const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
                return answer(r.status, text, { 'Content-Type': r.contentType ?? 'application/json' });
            }
            case 'result':
            case 'error':
            case 'disconnect':
            case 'send':
                return answer(200, '');
            default:
                return answer(404, 'not found');
            }
        });
    }
}

function basic(user, password) {
    return 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

// ---------------------------------------------------------------------------
// The daemon.
function startDaemon(apiPort, extra = []) {
    const args = [
        '--mode', 'ocpp', '--listen', '127.0.0.1:0',
        '--api', `http://127.0.0.1:${apiPort}/ocpp`,
        '--admin', 'none', '--threads', '2', '--call-timeout', '1', '--api-timeout', '2000',
        ...extra,
    ];
    const child = spawn(DAEMON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = [];
    const exited = new Promise(resolve => child.once('exit', (code, signal) => resolve({ code, signal })));
    const port = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`ws2apid did not log its port within ${WAIT_MS} ms:\n${log.join('')}`)), WAIT_MS);
        let pending = '';
        const onData = chunk => {
            const text = chunk.toString('utf8');
            log.push(text);
            pending += text;
            const m = /listening on 127\.0\.0\.1:(\d+)/.exec(pending);
            if (m) { clearTimeout(timer); resolve(Number(m[1])); }
            if (pending.length > 65536) pending = pending.slice(-4096);
        };
        child.stderr.on('data', onData);
        child.stdout.on('data', onData);
        child.once('error', err => { clearTimeout(timer); reject(err); });
        exited.then(({ code, signal }) => {
            clearTimeout(timer);
            reject(new Error(`ws2apid exited (code ${code}, signal ${signal}) before listening:\n${log.join('')}`));
        });
    });
    return { child, log, exited, port };
}

async function stopDaemon(d) {
    if (d.child.exitCode !== null || d.child.signalCode !== null) return d.exited;
    d.child.kill('SIGTERM');
    let timer;
    const killed = new Promise(resolve => {
        timer = setTimeout(() => { d.child.kill('SIGKILL'); resolve(); }, 15000);
    });
    const result = await Promise.race([d.exited, killed.then(() => d.exited)]);
    clearTimeout(timer);
    return result;
}

// A push: POST to the daemon's own listener.
function push(port, path, payload) {
    return new Promise((resolve, reject) => {
        const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
        const req = http.request({
            host: '127.0.0.1', port, path, method: 'POST', agent: false,
            headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
            timeout: WAIT_MS,
        }, res => {
            const chunks = [];
            res.on('data', c => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('timeout', () => req.destroy(new Error(`push ${path} got no answer within ${WAIT_MS} ms`)));
        req.on('error', reject);
        req.end(body);
    });
}

// A handler that never answers on its own: resolves `started` when invoked and,
// once the client goes away, replies NOREPLY so no CALLERROR reaches the wire.
function hangingHandler() {
    let started;
    const seen = new Promise(resolve => { started = resolve; });
    const handler = ({ messageId, params, signal }) => {
        started({ messageId, params });
        return new Promise(resolve => signal.addEventListener('abort', () => resolve(NOREPLY), { once: true }));
    };
    return { handler, seen };
}

const bootPayload = {
    'ocpp1.6': { chargePointVendor: 'ws2api-tests', chargePointModel: 'ocpp-rpc' },
    'ocpp2.0.1': { reason: 'PowerUp', chargingStation: { model: 'ocpp-rpc', vendorName: 'ws2api-tests' } },
};
const resetPayload = {
    'ocpp1.6': { type: 'Hard' },
    'ocpp2.0.1': { type: 'Immediate' },
};

// ---------------------------------------------------------------------------
for (const proto of ['ocpp1.6', 'ocpp2.0.1']) {
    describe(`ws2apid --mode ocpp with an ${proto} station (ocpp-rpc ${rpcVersion()})`, () => {
        const api = new RecordingApi();
        let daemon;
        let port;
        const clients = new Set();

        const station = (identity, password) => {
            const cli = new RPCClient({
                endpoint: `ws://127.0.0.1:${port}`,
                identity,
                password,
                protocols: [proto],
                strictMode: false,
                reconnect: false,
                callTimeoutMs: 10000,
            });
            clients.add(cli);
            return cli;
        };

        // Opens a station and checks it got the version it asked for.
        const connected = async (identity, password) => {
            api.passwords.set(identity, password);
            const cli = station(identity, password);
            await cli.connect();
            assert.equal(cli.protocol, proto);
            return cli;
        };

        // Closes a station cleanly and waits for the API's /disconnect for it.
        const closeStation = async (cli) => {
            const mark = api.mark();
            await cli.close({ code: 1000, reason: 'test done' });
            clients.delete(cli);
            return api.waitFor(r => r.kind === 'disconnect' && r.json === cli.identity,
                `POST /ocpp/disconnect "${cli.identity}"`, mark);
        };

        const waitAnswer = (kind, action, id, messageId, from) =>
            api.waitFor(r => r.kind === kind && r.action === action && r.clientId === id && r.messageId === messageId,
                `POST /ocpp/${kind}/${action}/${id}/${messageId}`, from);

        before(async () => {
            await api.start();
            daemon = startDaemon(api.port);
            port = await daemon.port;
        });

        after(async () => {
            for (const cli of clients) await cli.close({ force: true }).catch(() => {});
            if (daemon) {
                const { code, signal } = await stopDaemon(daemon);
                await api.stop();
                assert.equal(signal, null, `ws2apid died of ${signal}:\n${daemon.log.join('')}`);
                assert.equal(code, 0, `ws2apid exited ${code} after SIGTERM:\n${daemon.log.join('')}`);
            } else {
                await api.stop();
            }
        });

        it('1. boot: station connects with Basic auth, BootNotification round-trips through the API', { timeout: TEST_MS }, async () => {
            const mark = api.mark();
            const cli = await connected('CP-1', 'secret-1');

            const conn = await api.waitFor(r => r.kind === 'connect' && r.json === 'CP-1', 'POST /ocpp/connect "CP-1"', mark);
            assert.equal(conn.body, '"CP-1"');
            assert.equal(conn.status, 200);
            assert.equal(conn.headers.authorization, basic('CP-1', 'secret-1'));
            assert.match(conn.headers['content-type'] ?? '', /^application\/json\b/);
            assert.match(conn.headers['sec-websocket-protocol'] ?? '', new RegExp(`(^|[ ,])${proto.replace('.', '\\.')}($|[ ,])`));

            const answer = { status: 'Accepted', currentTime: '2024-01-02T03:04:05.000Z', interval: 300 };
            api.onCall = rec => rec.action === 'BootNotification'
                ? { status: 200, body: answer }
                : { status: 404, body: { code: 'NotImplemented', description: rec.action, details: {} } };
            const callMark = api.mark();
            const res = await cli.call('BootNotification', bootPayload[proto]);
            assert.deepEqual(res, answer);

            const call = await api.waitFor(r => r.kind === 'call' && r.action === 'BootNotification',
                'POST /ocpp/call/BootNotification/CP-1/<MessageId>', callMark);
            assert.equal(call.clientId, 'CP-1');
            assert.ok(call.messageId && call.messageId.length <= 36, `MessageId ${call.messageId}`);
            assert.deepEqual(call.json, bootPayload[proto]);
            assert.match(call.headers['content-type'] ?? '', /^application\/json\b/);

            await closeStation(cli);
        });

        it('2. bad password: the upgrade is refused with the API\'s 401', { timeout: TEST_MS }, async () => {
            api.passwords.set('CP-2', 'right-password');
            const mark = api.mark();
            const cli = station('CP-2', 'wrong-password');
            await assert.rejects(cli.connect(), err => {
                assert.equal(err.code, 401, `connect failed with ${err.code}: ${err.message}`);
                // SPEC: a 401 is passed on with WWW-Authenticate (OCPP security profile 1).
                assert.equal(err.response?.headers['www-authenticate'], 'Basic realm="ocpp"');
                return true;
            });
            clients.delete(cli);
            const conn = await api.waitFor(r => r.kind === 'connect' && r.json === 'CP-2', 'POST /ocpp/connect "CP-2"', mark);
            assert.equal(conn.status, 401);
            assert.equal(conn.headers.authorization, basic('CP-2', 'wrong-password'));
        });

        it('3. CALLERROR from the API: a 400 with {code,description,details} reaches the station', { timeout: TEST_MS }, async () => {
            const cli = await connected('CP-3', 'secret-3');
            api.onCall = () => ({ status: 400, body: { code: 'NotSupported', description: 'nope', details: { x: 1 } } });
            await assert.rejects(cli.call('Heartbeat', {}), err => {
                assert.equal(err.rpcErrorCode, 'NotSupported');
                assert.equal(err.message, 'nope');
                assert.deepEqual(err.details, { x: 1 });
                return true;
            });
            await closeStation(cli);
        });

        it('4. API failure: a 500 with non-JSON, and a dropped API connection, both give InternalError', { timeout: TEST_MS }, async () => {
            const cli = await connected('CP-4', 'secret-4');

            api.onCall = () => ({ status: 500, body: '<html>oops</html>', contentType: 'text/html' });
            await assert.rejects(cli.call('Heartbeat', {}), err => {
                assert.equal(err.rpcErrorCode, 'InternalError', `got ${err.rpcErrorCode}: ${err.message}`);
                return true;
            });

            const mark = api.mark();
            api.onCall = () => 'destroy';
            await assert.rejects(cli.call('StatusNotification', {}), err => {
                assert.equal(err.rpcErrorCode, 'InternalError', `got ${err.rpcErrorCode}: ${err.message}`);
                return true;
            });
            await api.waitFor(r => r.kind === 'call' && r.action === 'StatusNotification' && r.status === 'destroyed',
                'POST /ocpp/call/StatusNotification/CP-4/...', mark);

            // The connection is still usable afterwards.
            api.onCall = () => ({ status: 200, body: { currentTime: '2024-01-02T03:04:05.000Z' } });
            assert.deepEqual(await cli.call('Heartbeat', {}), { currentTime: '2024-01-02T03:04:05.000Z' });
            await closeStation(cli);
        });

        it('5. pushed CALL answered: the CALLRESULT goes to /result/', { timeout: TEST_MS }, async () => {
            const cli = await connected('CP-1', 'secret-1');
            let got;
            cli.handle('Reset', ({ messageId, params }) => {
                got = { messageId, params };
                return { status: 'Accepted' };
            });
            const mark = api.mark();
            const res = await push(port, '/call/Reset/CP-1/m-1', resetPayload[proto]);
            assert.equal(res.status, 200, `push answered ${res.status} ${res.body}`);
            const result = await waitAnswer('result', 'Reset', 'CP-1', 'm-1', mark);
            assert.deepEqual(result.json, { status: 'Accepted' });
            assert.deepEqual(got, { messageId: 'm-1', params: resetPayload[proto] });
            assert.match(result.headers['content-type'] ?? '', /^application\/json\b/);
            await closeStation(cli);
        });

        it('6. pushed CALL rejected: the CALLERROR goes to /error/', { timeout: TEST_MS }, async () => {
            const cli = await connected('CP-1', 'secret-1');
            cli.handle('Reset', () => {
                throw createRPCError('NotImplemented', 'no reset here', { why: 'test' });
            });
            const mark = api.mark();
            const res = await push(port, '/call/Reset/CP-1/m-2', resetPayload[proto]);
            assert.equal(res.status, 200, `push answered ${res.status} ${res.body}`);
            const error = await waitAnswer('error', 'Reset', 'CP-1', 'm-2', mark);
            assert.deepEqual(error.json, { code: 'NotImplemented', description: 'no reset here', details: { why: 'test' } });
            await closeStation(cli);
        });

        it('7. pushed CALL unanswered: /error/ with code Timeout after --call-timeout 1', { timeout: TEST_MS }, async () => {
            const cli = await connected('CP-1', 'secret-1');
            const { handler, seen } = hangingHandler();
            cli.handle('Reset', handler);
            const mark = api.mark();
            const t0 = Date.now();
            const res = await push(port, '/call/Reset/CP-1/m-3', resetPayload[proto]);
            assert.equal(res.status, 200, `push answered ${res.status} ${res.body}`);
            assert.equal((await seen).messageId, 'm-3');
            const error = await waitAnswer('error', 'Reset', 'CP-1', 'm-3', mark);
            const elapsed = Date.now() - t0;
            assert.equal(error.json?.code, 'Timeout', `body ${error.body}`);
            assert.ok(elapsed >= 900, `Timeout reported after only ${elapsed} ms`);
            await closeStation(cli);
        });

        it('8. station leaves with a CALL outstanding: /error/ with code Disconnected, then /disconnect', { timeout: TEST_MS }, async () => {
            const cli = await connected('CP-1', 'secret-1');
            const { handler, seen } = hangingHandler();
            cli.handle('Reset', handler);
            const mark = api.mark();
            const res = await push(port, '/call/Reset/CP-1/m-4', resetPayload[proto]);
            assert.equal(res.status, 200, `push answered ${res.status} ${res.body}`);
            assert.equal((await seen).messageId, 'm-4');

            const gone = await closeStation(cli);
            const error = await waitAnswer('error', 'Reset', 'CP-1', 'm-4', mark);
            assert.equal(error.json?.code, 'Disconnected', `body ${error.body}`);
            assert.ok(error.index < gone.index, '/error/ must reach the API before /disconnect');
            assert.equal(gone.body, '"CP-1"');
        });

        it('8b. a queued CALL behind the outstanding one is reported Disconnected too', { timeout: TEST_MS }, async () => {
            const cli = await connected('CP-1', 'secret-1');
            const { handler, seen } = hangingHandler();
            cli.handle('Reset', handler);
            const mark = api.mark();
            assert.equal((await push(port, '/call/Reset/CP-1/m-5', resetPayload[proto])).status, 200);
            assert.equal((await seen).messageId, 'm-5');
            const queued = await push(port, '/call/Reset/CP-1/m-6', resetPayload[proto]);
            assert.equal(queued.status, 200, `queued push answered ${queued.status} ${queued.body}`);

            const gone = await closeStation(cli);
            for (const id of ['m-5', 'm-6']) {
                const error = await waitAnswer('error', 'Reset', 'CP-1', id, mark);
                assert.equal(error.json?.code, 'Disconnected', `${id}: body ${error.body}`);
                assert.ok(error.index < gone.index, `${id}: /error/ must reach the API before /disconnect`);
            }
        });

        it('every API request was a POST with Content-Type application/json; the refused station got no /disconnect', { timeout: TEST_MS }, async () => {
            assert.ok(api.requests.length > 0);
            for (const r of api.requests) {
                assert.equal(r.method, 'POST', r.path);
                assert.match(r.headers['content-type'] ?? '', /^application\/json\b/, `${r.path}: ${r.headers['content-type']}`);
            }
            assert.ok(!api.requests.some(r => r.kind === 'disconnect' && r.json === 'CP-2'), 'refused CP-2 was announced as disconnected');
        });
    });
}

// ---------------------------------------------------------------------------
// Native TLS: OCPP security profiles 2 (Basic auth over TLS) and 3 (client
// certificates), with certificates made here by Debian's openssl.
class TestPki {
    constructor() {
        this.dir = mkdtempSync(join(tmpdir(), 'ws2api-ocpp-tls-'));
    }
    path(name) { return join(this.dir, name); }
    read(name) { return readFileSync(this.path(name)); }
    #req(name, subject, ca, extension) {
        const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-keyout', this.path(`${name}.key`), '-out', this.path(`${name}.crt`), '-subj', subject, '-days', '2'];
        if (ca) args.push('-CA', this.path(`${ca}.crt`), '-CAkey', this.path(`${ca}.key`));
        if (extension) args.push('-addext', extension);
        execFileSync('openssl', args, { stdio: 'ignore' });
    }
    make() {
        this.#req('ca', '/O=Test Operator/CN=test CA');
        this.#req('server', '/CN=localhost', 'ca', 'subjectAltName=IP:127.0.0.1');
        this.#req('foreign-ca', '/O=Someone Else/CN=foreign CA');
        return this;
    }
    station(id, ca = 'ca') { this.#req(id, `/O=Test Operator/CN=${id}`, ca); return this; }
    // What ws2apid passes to the API for a station's verified certificate (RFC 9440).
    clientCert(id) { return `:${new X509Certificate(this.read(`${id}.crt`)).raw.toString('base64')}:`; }
    remove() { rmSync(this.dir, { recursive: true, force: true }); }
}

describe(`ws2apid --mode ocpp over wss: security profiles 2 and 3 (ocpp-rpc ${rpcVersion()})`, () => {
    const pki = new TestPki();
    const api = new RecordingApi();
    const daemons = [];
    const clients = new Set();

    const tlsDaemon = async (verify) => {
        const d = startDaemon(api.port, ['--tls-cert', pki.path('server.crt'), '--tls-key', pki.path('server.key'),
            '--tls-client-ca', pki.path('ca.crt'), '--tls-verify-client', verify]);
        daemons.push(d);
        return d.port;
    };
    const station = (port, identity, { password, certificate } = {}) => {
        const wsOpts = { ca: pki.read('ca.crt') };
        if (certificate) Object.assign(wsOpts, { cert: pki.read(`${certificate}.crt`), key: pki.read(`${certificate}.key`) });
        const cli = new RPCClient({
            endpoint: `wss://127.0.0.1:${port}/ocpp`, identity, password, protocols: ['ocpp1.6'],
            strictMode: false, reconnect: false, callTimeoutMs: 10000, wsOpts,
        });
        clients.add(cli);
        return cli;
    };

    before(async () => {
        pki.make().station('CP-31').station('CP-32', 'foreign-ca');
        await api.start();
        api.onCall = () => ({ status: 200, body: { status: 'Accepted', currentTime: '2026-12-07T00:00:00Z', interval: 300 } });
    });

    after(async () => {
        for (const cli of clients) await cli.close({ force: true }).catch(() => {});
        for (const d of daemons) {
            const { code } = await stopDaemon(d);
            assert.equal(code, 0, `ws2apid exited ${code}:\n${d.log.join('')}`);
        }
        await api.stop();
        pki.remove();
    });

    it('profile 2: Basic auth over wss, a certificate optional and not sent', { timeout: TEST_MS }, async () => {
        const port = await tlsDaemon('optional');
        api.passwords.set('CP-21', 'secret-21');
        const mark = api.mark();
        const cli = station(port, 'CP-21', { password: 'secret-21' });
        await cli.connect();
        const conn = await api.waitFor(r => r.kind === 'connect' && r.json === 'CP-21', 'POST /ocpp/connect "CP-21"', mark);
        assert.equal(conn.headers.authorization, basic('CP-21', 'secret-21'));
        assert.equal(conn.headers['client-cert'], undefined);
        const res = await cli.call('BootNotification', bootPayload['ocpp1.6']);
        assert.equal(res.status, 'Accepted');
    });

    it('profile 3: the station\'s certificate reaches the API; a missing or foreign one is refused', { timeout: TEST_MS }, async () => {
        const port = await tlsDaemon('required');
        api.certificates.set('CP-31', pki.clientCert('CP-31'));
        api.certificates.set('CP-32', pki.clientCert('CP-32'));
        const mark = api.mark();
        // Refused by TLS itself, not by the API (whose refusal is an HTTP status).
        const byTls = err => typeof err.code !== 'number';
        await assert.rejects(station(port, 'CP-31').connect(), byTls, 'no certificate: refused');
        await assert.rejects(station(port, 'CP-32', { certificate: 'CP-32' }).connect(), byTls, 'a foreign CA: refused');
        const cli = station(port, 'CP-31', { certificate: 'CP-31' });
        await cli.connect();
        const conn = await api.waitFor(r => r.kind === 'connect' && r.json === 'CP-31', 'POST /ocpp/connect "CP-31"', mark);
        assert.equal(conn.headers['client-cert'], pki.clientCert('CP-31'));
        assert.ok(!api.requests.slice(mark).some(r => r.kind === 'connect' && r.json === 'CP-32'), 'CP-32 reached the API');
        const res = await cli.call('Heartbeat', {});
        assert.equal(res.status, 'Accepted');
    });
});

function rpcVersion() {
    try {
        return JSON.parse(readPackage()).version;
    } catch {
        return '?';
    }
}

function readPackage() {
    // Resolved relative to this file so the suite reports the version it really loaded.
    return readFileSync(new URL('./node_modules/ocpp-rpc/package.json', import.meta.url), 'utf8');
}

