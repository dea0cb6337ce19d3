'use strict';
// Where a stream may have missed changes, and what it does about it: every
// gap is announced (counted, 'gap'); with `gaps` it is also yielded in order
// with the events; with `catchUp` a reconnect gap is followed by the
// documents the server says changed since, ahead of the new live events.
const { gapItem, nowSeconds } = require('./gaps');
const { catchUpItem, newestUpdate, catchUpFrom } = require('./catch-up');

class GapTracker {
  /**
   * @param {string|null} collection
   * @param {object} how
   * @param {boolean} how.inBand yield gap items with the events (`gaps`)
   * @param {((coll: string|null, since: string|null) => Promise<{found: Array<{collection: string, document: object}>, complete: boolean}>)|null} how.catchUp
   * @param {import('./holdback').Holdback} how.holdback where live events wait behind a catch-up
   * @param {() => number} how.newestSeen the newest timestamp delivered or waiting (epoch seconds)
   * @param {(items: object[]) => void} how.takeItems in-band items join the stream
   * @param {(gap: object) => void} how.announce every gap, in-band or not
   * @param {() => boolean} how.closed
   */
  constructor(collection, { inBand, catchUp, holdback, newestSeen, takeItems, announce, closed }) {
    this._collection = collection;
    this._inBand = inBand;
    this._catchUp = catchUp;
    /** catchUp: runs of live events go through sawEvents. A field, read for every run. */
    this.watchesEvents = catchUp !== null;
    this._holdback = holdback;
    this._newestSeen = newestSeen;
    this._takeItems = takeItems;
    this._announce = announce;
    this._closed = closed;
    /** Gaps announced so far. */
    this.count = 0;
    this._mark = null; // catchUp: the newest _updated_at seen (the server's text)
    this._lostAt = null; // {since, mark} while a lost connection is not yet re-subscribed
    this._dropGap = null; // dropOldest: the gap item at the buffer's head, grown while not consumed
  }

  /** A run of live events: a catch-up reads from the newest document they carry. */
  sawEvents(evs) {
    this._mark = newestUpdate(this._mark, evs, 'fullDocument');
  }

  /** True between a lost connection and its re-subscription. */
  get lost() {
    return this._lostAt !== null;
  }

  /**
   * The connection was lost: what arrives from now on was sent after a gap.
   * @returns {boolean} false when already lost (a re-dial lost before any
   *   event came): the same gap, no new loss to report
   */
  connectionLost() {
    if (this._lostAt !== null) return false;
    this._lostAt = { since: this._newestSeen(), mark: this._mark };
    return true;
  }

  /** Subscribed again after a loss: the gap is reported (and caught up) before anything newer. */
  resubscribed() {
    const lost = this._lostAt;
    if (lost === null) return;
    this._lostAt = null;
    const gap = gapItem(this._collection, 'reconnect', lost.since, nowSeconds());
    if (this._catchUp === null) {
      this._gap(gap);
      return;
    }
    const fill = this._holdback.slot(); // live events wait behind it until the documents are read
    this._catchUp(this._collection, catchUpFrom(lost.mark)).then(({ found, complete }) => {
      gap.catchUp = { documents: found.length, complete };
      this._mark = newestUpdate(this._mark, found, 'document');
      return found.map(({ collection, document }) => catchUpItem(collection, document));
    }, (err) => {
      gap.catchUp = { documents: 0, complete: false, error: err };
      return [];
    }).then((items) => {
      if (this._closed()) return;
      this._announceGap(gap);
      fill(this._inBand ? [gap, ...items] : items);
    });
  }

  /** The server sent an event this client could not decode (the connection stays). */
  undecodable(message) {
    if (this._closed()) return;
    this._gap(gapItem(this._collection, 'undecodable', this._newestSeen(), nowSeconds(), { message }));
  }

  /** Whether `item` is the dropOldest gap item this tracker put at the buffer's head. */
  isDropGap(item) {
    return item !== undefined && item === this._dropGap;
  }

  /**
   * 'dropOldest' dropped `count` events (timestamps since..until; ±Infinity
   * when they had none): announced. Returns the item that stands where they
   * were, in-band (else null): one not yet consumed, `held`, grows instead
   * of being dropped itself.
   * @param {object|null} held the previous drop's item, taken off the buffer's head
   */
  dropped(count, since, until, held) {
    if (since === Infinity) since = nowSeconds();
    if (until === -Infinity) until = since;
    const gap = gapItem(this._collection, 'dropOldest', since, until, { count });
    this._announceGap(gap);
    if (!this._inBand) return null;
    this._dropGap = held === null ? gap
      : gapItem(this._collection, 'dropOldest', Math.min(held.since, since), Math.max(held.until, until), { count: held.count + count });
    return this._dropGap;
  }

  _announceGap(gap) {
    this.count++;
    this._announce(gap);
  }

  /** A gap: announced; in-band too with `gaps`, behind anything held. */
  _gap(gap) {
    this._announceGap(gap);
    if (!this._inBand) return;
    if (this._holdback.active) this._holdback.items([gap]);
    else this._takeItems([gap]);
  }
}

module.exports = { GapTracker };
