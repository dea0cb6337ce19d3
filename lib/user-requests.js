'use strict';
// The user requests (admin, except changing one's own password): NexaClient's
// own methods, written here to keep lib/client.js short; client.js puts them
// on NexaClient.prototype, so `this` is the client. Users are server-wide:
// no database is sent.
const { MSG } = require('./connection');
const { checkName } = require('./arguments');

/** @typedef {import('./client').CallOptions} CallOptions */

class UserRequests {
  /**
   * Creates a user (admin). Resolves with the server's answer, which holds the API key once.
   * @param {string} username
   * @param {string} password
   * @param {'admin'|'write'|'read'|'guest'} [role='read']
   * @param {CallOptions} [options]
   */
  async createUser(username, password, role = 'read', options = undefined) {
    checkName(username, 'username');
    checkName(password, 'password');
    if (role !== null && typeof role === 'object') [role, options] = ['read', role];
    return this._call(MSG.CREATE_USER, { username, password, role }, options, { operation: 'createUser', username }, false);
  }

  /**
   * Deletes a user (admin).
   * @param {string} username
   * @param {CallOptions} [options]
   */
  async deleteUser(username, options) {
    checkName(username, 'username');
    return this._call(MSG.DELETE_USER, { username }, options, { operation: 'deleteUser', username }, false);
  }

  /**
   * Every user (admin): the server's `users` map, name to `{role, ...}`.
   * @param {CallOptions} [options]
   * @returns {Promise<Object<string, object>>}
   */
  async listUsers(options) {
    const r = await this._call(MSG.LIST_USERS, {}, options, { operation: 'listUsers' }, false);
    return r.users || {};
  }

  /**
   * Changes a password: one's own, or anyone's as an admin.
   * @param {string} username
   * @param {string} newPassword
   * @param {CallOptions} [options]
   */
  async changePassword(username, newPassword, options) {
    checkName(username, 'username');
    checkName(newPassword, 'newPassword');
    return this._call(MSG.CHANGE_PASSWORD, { username, new_password: newPassword }, options, { operation: 'changePassword', username }, false);
  }
}

module.exports = { UserRequests };
