'use strict';
// A TCP proxy for fault injection: it sits between a client and a server and
// can cut, stall (half-open), delay or half-close the connections it carries.
//
//   const proxy = await startFaultProxy({ targetPort: srv.port });
//   const client = new NexaClient({ host: '127.0.0.1', port: proxy.port });
//   proxy.stall();   // nothing moves, nothing closes: a half-open connection
//   proxy.resume();  // what was held goes through, in order
//   proxy.cut();     // every proxied pair destroyed (both sides)
//   await proxy.close();
//
// Each accepted client socket gets a socket of its own to the target: a
// "pair". Bytes are forwarded chunk by chunk, in order, in each direction.
// While stalled, bytes are still read (so nothing backs up into the kernel
// and no side can tell) but held; resume() forwards them. With delay(ms),
// every chunk goes out `ms` after it arrived (order kept). halfClose() sends
// FIN to the clients and keeps the server sides open. swallow(type) drops the
// client's frames of one message type (a server that never answers, say,
// SUBSCRIBE); refuse() closes new connections at once until accept().
const net = require('net');
const { FrameReader } = require('../../lib/frame-reader');

/** One direction of a pair: from `src` to `dst`, with holding and delay. */
class Lane {
  constructor(proxy, name) {
    this.proxy = proxy;
    this.name = name; // 'up' (client to server) or 'down'
    this.dst = null; // set once the destination is writable
    this.queue = []; // [{buf, due}] not yet written, oldest first
    this.timer = null;
    this.ended = false; // the source sent FIN: end dst once the queue drains
    this.closed = false; // dst may not be written any more
  }

  push(buf) {
    if (this.name === 'up') this.proxy.bytesUp += buf.length;
    else this.proxy.bytesDown += buf.length;
    if (this.closed) return;
    const delay = this.proxy._delayMs;
    const last = this.queue.length ? this.queue[this.queue.length - 1].due : 0;
    this.queue.push({ buf, due: Math.max(Date.now() + delay, last) });
    this.pump();
  }

  end() {
    this.ended = true;
    this.pump();
  }

  pump() {
    if (this.closed || this.dst === null || this.proxy._stalled) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const now = Date.now();
    while (this.queue.length && this.queue[0].due <= now) {
      this.dst.write(this.queue.shift().buf);
    }
    if (this.queue.length) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, Math.max(1, this.queue[0].due - now));
      return;
    }
    if (this.ended && !this.dst.writableEnded) this.dst.end();
  }

  /** Drops everything queued; dst is never written again. */
  close() {
    this.closed = true;
    this.queue = [];
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}

class FaultProxy {
  constructor({ targetPort, targetHost = '127.0.0.1', host = '127.0.0.1' }) {
    if (!Number.isInteger(targetPort)) throw new TypeError('targetPort must be an integer');
    this.targetPort = targetPort;
    this.targetHost = targetHost;
    this.host = host;
    /** @type {number} the port clients dial (known after listen) */
    this.port = 0;
    /** Bytes received from clients, and from the server (held or not): for waiting on traffic. */
    this.bytesUp = 0;
    this.bytesDown = 0;
    /** Connections accepted so far. */
    this.accepted = 0;
    this._pairs = new Set();
    /** Frames swallowed so far, by message type. */
    this.swallowedFrames = {};
    this._swallowed = new Set();
    this._refusing = false;
    this._stalled = false;
    this._delayMs = 0;
    this._server = null;
    this._closing = null;
  }

  /** The number of live proxied pairs. */
  get connections() {
    return this._pairs.size;
  }

  get stalled() {
    return this._stalled;
  }

  listen() {
    this._server = net.createServer({ allowHalfOpen: true }, (sock) => this._onConnection(sock));
    return new Promise((resolve, reject) => {
      this._server.once('error', reject);
      this._server.listen(0, this.host, () => {
        this._server.removeListener('error', reject);
        this._server.on('error', () => {});
        this.port = this._server.address().port;
        resolve(this);
      });
    });
  }

  _onConnection(client) {
    if (this._closing || this._refusing) {
      client.destroy();
      return;
    }
    this.accepted++;
    client.setNoDelay(true);
    const pair = { client, server: null, up: new Lane(this, 'up'), down: new Lane(this, 'down'), dead: false };
    this._pairs.add(pair);
    pair.down.dst = client;
    const server = net.connect({ port: this.targetPort, host: this.targetHost, allowHalfOpen: true });
    pair.server = server;
    server.setNoDelay(true);
    server.on('connect', () => {
      pair.up.dst = server;
      pair.up.pump();
    });
    client.on('data', (d) => {
      const out = this._swallowed.size ? this._filterUp(pair, d) : d;
      if (out.length) pair.up.push(out);
    });
    server.on('data', (d) => pair.down.push(d));
    client.on('end', () => pair.up.end());
    server.on('end', () => pair.down.end());
    // Either side failing or fully closed: the pair goes.
    const kill = () => this._destroy(pair);
    client.on('error', kill);
    server.on('error', kill);
    client.on('close', kill);
    server.on('close', kill);
  }

  _destroy(pair) {
    if (pair.dead) return;
    pair.dead = true;
    this._pairs.delete(pair);
    pair.up.close();
    pair.down.close();
    pair.client.destroy();
    pair.server.destroy();
  }

  /** The client's bytes less the frames of swallowed types (whole frames only; a partial one waits). */
  _filterUp(pair, d) {
    if (!pair.upFrames) pair.upFrames = new FrameReader();
    pair.upFrames.push(d);
    const kept = [];
    for (let f = pair.upFrames.next(); f !== null && !f.fatal; f = pair.upFrames.next()) {
      if (this._swallowed.has(f.type)) this.swallowedFrames[f.type] = (this.swallowedFrames[f.type] || 0) + 1;
      else kept.push(f.raw);
    }
    return Buffer.concat(kept);
  }

  /**
   * From now on, the client's frames of this message type never reach the
   * server (counted in `swallowedFrames[type]`). Other frames go through.
   * @param {number} type e.g. MSG.SUBSCRIBE_CHANGES
   */
  swallow(type) {
    this._swallowed.add(type);
  }

  /** New connections are closed as soon as they are accepted (as a refused dial would fail), until accept(). */
  refuse() {
    this._refusing = true;
  }

  accept() {
    this._refusing = false;
  }

  /** Destroys every proxied pair, both sides, at once. Returns how many. */
  cut() {
    const pairs = Array.from(this._pairs);
    for (const p of pairs) this._destroy(p);
    return pairs.length;
  }

  /**
   * Stops forwarding in both directions without closing anything: bytes are
   * read and held. New connections are accepted and stalled too.
   */
  stall() {
    this._stalled = true;
    for (const p of this._pairs) {
      for (const lane of [p.up, p.down]) {
        if (lane.timer) {
          clearTimeout(lane.timer);
          lane.timer = null;
        }
      }
    }
  }

  /** Undoes stall() and delay(): what was held is forwarded now, in order. */
  resume() {
    this._stalled = false;
    this._delayMs = 0;
    for (const p of this._pairs) {
      for (const lane of [p.up, p.down]) {
        for (const item of lane.queue) item.due = 0;
        lane.pump();
      }
    }
  }

  /** Every chunk forwarded from now on goes out `ms` after it arrived. */
  delay(ms) {
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError('delay: ms must be a non-negative number');
    this._delayMs = ms;
  }

  /**
   * Ends the client-facing side of every pair (the client reads EOF) while
   * the server side stays open; what the server sends afterwards is dropped.
   * Returns how many pairs.
   */
  halfClose() {
    let n = 0;
    for (const p of this._pairs) {
      p.down.close();
      if (!p.client.writableEnded) p.client.end();
      n++;
    }
    return n;
  }

  /** Stops listening and destroys every pair. */
  close() {
    if (this._closing) return this._closing;
    this.cut();
    this._closing = new Promise((resolve) => {
      if (!this._server || !this._server.listening) resolve();
      else this._server.close(() => resolve());
    });
    return this._closing;
  }
}

/**
 * @param {{targetPort: number, targetHost?: string, host?: string}} opts
 * @returns {Promise<FaultProxy>} listening, on `proxy.port`
 */
function startFaultProxy(opts) {
  return new FaultProxy(opts).listen();
}

module.exports = { startFaultProxy, FaultProxy };
