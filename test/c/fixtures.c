/* The recorded frames and built payloads of fixtures.h. */
#include "fixtures.h"

#include <stdio.h>
#include <string.h>

#include "codec.h"

const msgpack_object *map_get(const msgpack_object *m, const char *key) {
  for (uint32_t i = 0; i < m->via.map.size; i++) {
    const msgpack_object_kv *kv = &m->via.map.ptr[i];
    if (kv->key.via.str.size == strlen(key) && memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0) return &kv->val;
  }
  return NULL;
}

size_t unhex(const char *h, uint8_t *out) {
  size_t n = strlen(h) / 2;
  for (size_t i = 0; i < n; i++) sscanf(h + 2 * i, "%2hhx", &out[i]);
  return n;
}

const char *const CONNECT_REQ = "4e455841010100000000002282a8757365726e616d65a4726f6f74a870617373776f7264a96e6578616462313233";
const char *const CONNECT_OK = "4e455841018100000000006686a6737461747573a9636f6e6e6563746564a6736572766572b64e65786144422042696e6172792050726f746f636f6ca776657273696f6ea5312e302e30ad61757468656e74696361746564c3a8757365726e616d65a4726f6f74a4726f6c65a561646d696e";
const char *const PING_REQ = "4e455841010900000000000180";
const char *const PONG = "4e455841018800000000001e82a6737461747573a26f6ba974696d657374616d70cb41dac1ffc0ffa01b";
const char *const BAD_PASSWORD = "4e455841018200000000002481a56572726f72bc496e76616c696420757365726e616d65206f722070617373776f7264";
const char *const GOODBYE = "4e455841018100000000001081a6737461747573a7676f6f64627965";
const char *const DELETE_EVENT = "4e455841019000000000006584ad6f7065726174696f6e54797065a664656c657465a26e7382a26462a66e6578616462a4636f6c6ca66f7264657273a974696d657374616d70cb41dac1ffc1074323ab646f63756d656e744b657981a35f6964b03139613264666631333866353762333800"; /* + one stray byte */

size_t nested_payload(uint8_t *out, const char *key, int levels, int maps) {
  size_t n = 0;
  if (key) {
    out[n++] = 0x81;
    out[n++] = (uint8_t)(0xa0 | strlen(key));
    memcpy(out + n, key, strlen(key));
    n += strlen(key);
  }
  for (int i = 0; i < levels; i++) {
    if (maps) {
      out[n++] = 0x81;
      out[n++] = 0xa1;
      out[n++] = 'a';
    } else {
      out[n++] = 0x91;
    }
  }
  out[n++] = 0x01;
  return n;
}

void tape_rig_init(tape_rig *r) {
  r->tables = nx_tape_tables_new();
  memset(&r->tape, 0, sizeof(r->tape));
  msgpack_sbuffer_init(&r->sb);
  msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

int tape_rig_append(tape_rig *r, nx_tape_payload what, size_t *elements) {
  static const char slack[NX_DECODE_SLACK];
  size_t len = r->sb.size, counted = 0;
  char err[160];
  int rc = -1;
  if (r->tables && msgpack_sbuffer_write(&r->sb, slack, sizeof(slack)) == 0 &&
      nx_check_padded((const uint8_t *)r->sb.data, len, NX_CHECK_MAP, 0, &counted, err, sizeof(err)) == 0)
    rc = nx_tape_append(r->tables, &r->tape, (const uint8_t *)r->sb.data, len, counted, what);
  if (elements) *elements = counted;
  msgpack_sbuffer_clear(&r->sb);
  return rc;
}

void tape_rig_free(tape_rig *r) {
  msgpack_sbuffer_destroy(&r->sb);
  nx_tape_free(&r->tape);
  nx_tape_tables_free(r->tables);
}
