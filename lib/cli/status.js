'use strict';
// The one-line status of `nexaclient watch` on a terminal's stderr:
// events/s, total, reconnects, lag. Nothing is drawn unless stderr is a TTY;
// messages still go through log() so a line never lands inside the status.

const EVERY_MS = 1000;

class StatusLine {
  /**
   * @param {NodeJS.WritableStream & {isTTY?: boolean}} stderr
   * @param {{reconnects: number}} stream
   */
  constructor(stderr, stream) {
    this.stderr = stderr;
    this.stream = stream;
    this.tty = stderr.isTTY === true;
    this.total = 0;
    this.newestTs = 0;
    this._down = false;
    this._timer = null;
    this._lastTotal = 0;
    this._lastAt = 0;
    this._rate = 0;
    this._shown = false;
    stream.on('disconnect', () => { this._down = true; this._draw(); });
    stream.on('reconnect', () => { this._down = false; this._draw(); });
  }

  start() {
    if (!this.tty || this._timer) return;
    this._lastAt = Date.now();
    this._timer = setInterval(() => this._tick(), EVERY_MS);
    this._timer.unref();
    this._draw();
  }

  /** Counts one event (an integer add and a read of its timestamp). */
  seen(ev) {
    this.total++;
    const ts = ev.timestamp;
    if (typeof ts === 'number' && ts > this.newestTs) this.newestTs = ts;
  }

  /** A message line on stderr, below which the status is drawn again. */
  log(text) {
    this._erase();
    this.stderr.write(`${text}\n`);
    this._draw();
  }

  stop() {
    if (this._timer) clearInterval(this._timer);
    this._timer = null;
    this._erase();
  }

  _tick() {
    const now = Date.now();
    this._rate = Math.round(((this.total - this._lastTotal) * 1000) / Math.max(1, now - this._lastAt));
    this._lastTotal = this.total;
    this._lastAt = now;
    this._draw();
  }

  _draw() {
    if (!this.tty || !this._timer) return;
    const lag = this.newestTs > 0 ? `${Math.max(0, Date.now() - this.newestTs * 1000).toFixed(0)} ms` : '-';
    const state = this._down ? ' · reconnecting…' : '';
    this.stderr.write(`\r\x1b[2K${this._rate.toLocaleString('en-US')} events/s · ${this.total.toLocaleString('en-US')} total · ` +
      `${this.stream.reconnects} reconnects · lag ${lag}${state}`);
    this._shown = true;
  }

  _erase() {
    if (this._shown) this.stderr.write('\r\x1b[2K');
    this._shown = false;
  }
}

module.exports = { StatusLine };
