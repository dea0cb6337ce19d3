'use strict';
// The streams a relay appends to: one, or with '{collection}' in the name
// one per collection, known as the relay meets them (in changes, in the
// records of relays before it, in the server's list of collections), for a
// gap of every collection goes to each stream known.

class StreamNames {
  /** @param {string} name the relay's `stream` option */
  constructor(name) {
    this._name = name;
    /** One stream per collection. */
    this.template = name.includes('{collection}');
    this._known = new Set(this.template ? [] : [name]);
  }

  /** The stream a change of `coll` goes to; it is known from now on. */
  of(coll) {
    if (!this.template) return this._name;
    const stream = this._name.replace('{collection}', coll);
    this._known.add(stream);
    return stream;
  }

  /** Collections met otherwise (discarded changes, the server's list): their streams are known. */
  meet(collections) {
    if (this.template) for (const coll of collections) this.of(coll);
  }

  /** Streams named in other relays' records. */
  adopt(streams) {
    if (this.template) for (const s of streams) this._known.add(s);
  }

  /** Every stream known: where a gap of every collection goes. */
  all() {
    return [...this._known];
  }
}

module.exports = { StreamNames };
