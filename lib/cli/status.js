'use strict';
// The one-line status of `nexaclient watch` on a terminal's stderr:
// events/s, total, reconnects, lag. Nothing is drawn unless stderr is a TTY;
// messages still go through log() so a line never lands inside the status.

const EVERY_MS = 1000;

class StatusLine {
  /**
   * @param {NodeJS.WritableStream & {isTTY?: boolean}} stderr
   * @param {import('../change-stream').ChangeStream} stream its stats() are shown
   */
  constructor(stderr, stream) {
    this.stderr = stderr;
    this.stream = stream;
    this.tty = stderr.isTTY === true;
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
    const total = this.stream.stats().delivered;
    this._rate = Math.round(((total - this._lastTotal) * 1000) / Math.max(1, now - this._lastAt));
    this._lastTotal = total;
    this._lastAt = now;
    this._draw();
  }

  _draw() {
    if (!this.tty || !this._timer) return;
    const st = this.stream.stats();
    const lag = st.lag === null ? '-' : `${st.lag.toFixed(0)} ms`;
    const state = this._down ? ' · reconnecting…' : '';
    this.stderr.write(`\r\x1b[2K${this._rate.toLocaleString('en-US')} events/s · ${st.delivered.toLocaleString('en-US')} total · ` +
      `${st.reconnects} reconnects · lag ${lag}${state}`);
    this._shown = true;
  }

  _erase() {
    if (this._shown) this.stderr.write('\r\x1b[2K');
    this._shown = false;
  }
}

module.exports = { StatusLine };
