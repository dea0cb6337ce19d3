'use strict';

/**
 * Handlers of the user messages: CONNECT, CREATE_USER, DELETE_USER,
 * LIST_USERS and CHANGE_PASSWORD.
 * @module nexaclient/dev-server/handlers/users
 * @private
 */

const { pyTruthy } = require('../query');
const { ROLES, newUser, nowSeconds } = require('../users');
const { RequestError, success, fail } = require('./common');

function connect(server, conn, data) {
  const { username, password } = data;
  if (!pyTruthy(username) || !pyTruthy(password)) {
    return fail("Missing 'username' or 'password' field in CONNECT message");
  }
  const user = typeof username === 'string' ? server._users.get(username) : undefined;
  if (!user || typeof password !== 'string' || user.password !== password) {
    return fail('Invalid username or password');
  }
  conn.username = username;
  conn.role = user.role;
  // The session keeps the database permissions read at CONNECT, as the reference's does.
  conn.databases = user.databases;
  user.lastLogin = nowSeconds();
  return success({
    status: 'connected',
    server: 'NexaDB Binary Protocol',
    version: '1.0.0',
    authenticated: true,
    username,
    role: user.role,
  });
}

function requireAdmin(conn, what) {
  return conn.role === 'admin' ? null : fail(`Permission denied. Only admins can ${what}.`);
}

/**
 * CREATE_USER (`username`, `password`, `role` default 'read'), admins only:
 * SUCCESS {message, username, password, api_key, role, note}. The new user
 * can CONNECT at once; it has no database permissions (see DevServerOptions).
 */
function createUser(server, conn, data) {
  const refused = requireAdmin(conn, 'create users');
  if (refused) return refused;
  const { username, password } = data;
  const role = data.role === undefined ? 'read' : data.role;
  if (!pyTruthy(username) || !pyTruthy(password)) return fail("Missing 'username' or 'password' field");
  if (!ROLES.includes(role)) return fail(`Invalid role. Must be one of: ${ROLES.join(', ')}`);
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new RequestError("'username' and 'password' must be strings");
  }
  if (server._users.has(username)) return fail(`User '${username}' already exists`);
  const user = newUser(password, role, {});
  server._users.set(username, user);
  return success({
    message: `User '${username}' created successfully`,
    username,
    password,
    api_key: user.apiKey,
    role,
    note: '\u26a0\ufe0f Save these credentials! Password and API key are only shown once.',
  });
}

/**
 * DELETE_USER (`username`), admins only: SUCCESS {message}. Errors as the
 * reference's (its auth manager raises, its dispatcher answers the text):
 * "Cannot delete root user", "User 'x' not found". Open sessions of the
 * deleted user stay authenticated, as on the reference.
 */
function deleteUser(server, conn, data) {
  const refused = requireAdmin(conn, 'delete users');
  if (refused) return refused;
  const { username } = data;
  if (!pyTruthy(username)) return fail("Missing 'username' field");
  if (username === 'root') return fail('Cannot delete root user');
  if (typeof username !== 'string' || !server._users.has(username)) return fail(`User '${username}' not found`);
  server._users.delete(username);
  return success({ message: `User '${username}' deleted successfully` });
}

/**
 * LIST_USERS, admins only: SUCCESS {users: {name: {role, api_key_prefix,
 * created_at, last_login, password_changed_at}}, count}; `users` is a map.
 */
function listUsers(server, conn) {
  const refused = requireAdmin(conn, 'list users');
  if (refused) return refused;
  const users = {};
  for (const [name, u] of server._users) {
    users[name] = {
      role: u.role,
      api_key_prefix: `${u.apiKey.slice(0, 15)}...`,
      created_at: u.createdAt,
      last_login: u.lastLogin,
      password_changed_at: u.passwordChangedAt,
    };
  }
  return success({ users, count: server._users.size });
}

/**
 * CHANGE_PASSWORD (`username`, `new_password`): a user may change its own
 * password, an admin anyone's. SUCCESS {message}; ERROR "Failed to change
 * password for user 'x'" for an unknown user.
 */
function changePassword(server, conn, data) {
  const username = data.username;
  const newPassword = data.new_password;
  if (!pyTruthy(username) || !pyTruthy(newPassword)) return fail("Missing 'username' or 'new_password' field");
  if (conn.username !== username && conn.role !== 'admin') {
    return fail('Permission denied. You can only change your own password.');
  }
  const user = typeof username === 'string' ? server._users.get(username) : undefined;
  if (!user) return fail(`Failed to change password for user '${username}'`);
  if (typeof newPassword !== 'string') throw new RequestError("'new_password' must be a string");
  user.password = newPassword;
  user.passwordChangedAt = nowSeconds();
  return success({ message: `Password changed successfully for user '${username}'` });
}

module.exports = { connect, createUser, deleteUser, listUsers, changePassword };
