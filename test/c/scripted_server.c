/* The scripted server, the sink and the rig of scripted_server.h. */
#include "scripted_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "fixtures.h"
#include "frame.h"

void deliver(void *ud, nx_batch *b) {
  sink *s = ud;
  pthread_mutex_lock(&s->mu);
  int changes = 0;
  for (size_t i = 0; i < b->n; i++) changes += b->items[i].kind == NX_EV_CHANGE;
  s->changes += changes;
  if (changes) s->batches_with_changes++;
  if (changes > s->max_batch_changes) s->max_batch_changes = changes;
  for (size_t i = 0; i < b->n; i++) {
    if (b->items[i].kind == NX_EV_PAUSED) s->flow_out_of_turn += s->pauses++ != s->resumes;
    if (b->items[i].kind == NX_EV_RESUMED) s->flow_out_of_turn += ++s->resumes != s->pauses;
  }
  for (size_t i = 0; i < b->n && s->n < 64; i++) {
    const nx_item *it = &b->items[i];
    s->items[s->n] = *it;
    snprintf(s->codes[s->n], 32, "%s", it->code ? it->code : "");
    snprintf(s->messages[s->n], 160, "%s", it->message ? it->message : "");
    /* A refused handshake's answer is on the tape: its strings (keys
     * announced, then values) hold the server's `error` text. */
    int refusal = (it->kind == NX_EV_OPEN_FAILED || it->kind == NX_EV_CLOSED) && it->on_tape;
    if (refusal) snprintf(s->tape_texts[s->n], 160, "%.*s", (int)(b->tape.nstr < 159 ? b->tape.nstr : 159), b->tape.str);
    else s->tape_texts[s->n][0] = '\0';
    s->n++;
  }
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  nx_batch_free(b);
}

int wait_items(sink *s, int count) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  pthread_mutex_lock(&s->mu);
  while (s->n < count) {
    if (pthread_cond_timedwait(&s->cv, &s->mu, &until)) break;
  }
  int n = s->n;
  pthread_mutex_unlock(&s->mu);
  return n;
}

static int read_frame(int fd, uint8_t *type) {
  uint8_t h[NX_HEADER_SIZE];
  size_t got = 0;
  while (got < NX_HEADER_SIZE) {
    ssize_t k = read(fd, h + got, NX_HEADER_SIZE - got);
    if (k <= 0) return -1;
    got += (size_t)k;
  }
  uint32_t len = ((uint32_t)h[8] << 24) | ((uint32_t)h[9] << 16) | ((uint32_t)h[10] << 8) | h[11];
  uint8_t buf[256];
  while (len > 0) {
    ssize_t k = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));
    if (k <= 0) return -1;
    len -= (uint32_t)k;
  }
  *type = h[5];
  return 0;
}

static void send_hex(int fd, const char *hex, size_t drop_tail) {
  uint8_t b[512];
  size_t n = unhex(hex, b) - drop_tail;
  if (write(fd, b, n) != (ssize_t)n) perror("write");
}

/* Sends a frame whose payload is at buf + NX_HEADER_SIZE (the header is written there). */
static void send_frame(int fd, uint8_t type, uint8_t *buf, size_t payload_len) {
  nx_frame_header(buf, type, (uint32_t)payload_len);
  if (write(fd, buf, NX_HEADER_SIZE + payload_len) != (ssize_t)(NX_HEADER_SIZE + payload_len)) perror("write");
}

static void *server_main(void *arg) {
  server *sv = arg;
  int fd = accept(sv->lfd, NULL, NULL);
  if (fd < 0) return NULL;
  uint8_t type;
  if (read_frame(fd, &type) == 0 && type == NX_MSG_CONNECT) {
    if (sv->mode == SRV_SILENT) {
      sleep(2);
    } else if (sv->mode == SRV_BAD_PASSWORD) {
      send_hex(fd, BAD_PASSWORD, 0);
    } else {
      send_hex(fd, CONNECT_OK, 0);
      if (sv->mode == SRV_BAD_MAGIC) {
        uint8_t all[8192];
        size_t n = 0;
        for (int i = 0; i < sv->flood && n < sizeof(all) - 512; i++)
          n += unhex(DELETE_EVENT, all + n) - 1; /* DELETE_EVENT ends with a byte too many */
        n += unhex("123456780181000000000000", all + n);
        if (write(fd, all, n) != (ssize_t)n) perror("write");
      } else if (sv->mode == SRV_SILENT_AFTER_AUTH) {
        sleep(1);
      } else if (sv->mode == SRV_FLOOD) {
        uint8_t ev[256];
        size_t len = unhex(DELETE_EVENT, ev) - 1;
        size_t total = len * (size_t)sv->flood;
        uint8_t *all = malloc(total);
        for (int i = 0; i < sv->flood; i++) memcpy(all + (size_t)i * len, ev, len);
        size_t off = 0;
        while (off < total) {
          ssize_t k = write(fd, all + off, total - off);
          if (k <= 0) break;
          off += (size_t)k;
        }
        free(all);
        while (read_frame(fd, &type) == 0) {
        }
      } else if (sv->mode == SRV_TOO_DEEP) {
        uint8_t deep[512];
        size_t n = nested_payload(deep + NX_HEADER_SIZE, "a", NX_MAX_DOC_DEPTH + 1, 0);
        send_hex(fd, DELETE_EVENT, 1);
        send_frame(fd, NX_MSG_CHANGE_EVENT, deep, n);
        send_hex(fd, DELETE_EVENT, 1);
        int pings = 0;
        while (read_frame(fd, &type) == 0) {
          if (type == NX_MSG_PING && pings++ == 0) send_frame(fd, NX_MSG_PONG, deep, n);
          else if (type == NX_MSG_PING) send_hex(fd, PONG, 0);
          if (type == NX_MSG_DISCONNECT) {
            send_hex(fd, GOODBYE, 0);
            break;
          }
        }
      } else if (sv->mode == SRV_PINGS_FOR_600MS) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
          clock_gettime(CLOCK_MONOTONIC, &t1);
          if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > 600) break;
          if (read_frame(fd, &type) != 0) break;
          if (type == NX_MSG_PING) {
            sv->pings++;
            send_hex(fd, PONG, 0);
          }
        }
      } else {
        /* An event pushed unasked, then answers in order. */
        send_hex(fd, DELETE_EVENT, 1);
        while (read_frame(fd, &type) == 0) {
          if (type == NX_MSG_PING) send_hex(fd, PONG, 0);
          if (type == NX_MSG_DISCONNECT) {
            sv->got_disconnect = 1;
            send_hex(fd, GOODBYE, 0);
            break;
          }
        }
      }
    }
  }
  usleep(100000);
  close(fd);
  return NULL;
}

int listen_any(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr *)&a, sizeof(a));
  listen(fd, 4);
  socklen_t len = sizeof(a);
  getsockname(fd, (struct sockaddr *)&a, &len);
  *port = ntohs(a.sin_port);
  return fd;
}

sink *sink_new(void) {
  sink *s = calloc(1, sizeof(*s));
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  return s;
}

void sink_free(sink *s) {
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

nx_conn_opts opts_for(uint16_t port) {
  nx_conn_opts o;
  memset(&o, 0, sizeof(o));
  o.host = "localhost"; /* resolves to ::1 first on many hosts: the core tries each address */
  o.port = port;
  o.user = "root";
  o.pass = "nexadb123";
  o.connect_timeout_ms = 1000;
  o.max_frame = 1 << 20;
  return o;
}

nx_conn_opts rig_start(rig *r, srv_mode mode, int flood) {
  uint16_t port;
  memset(r, 0, sizeof(*r));
  r->sv.mode = mode;
  r->sv.flood = flood;
  r->sv.lfd = listen_any(&port);
  pthread_create(&r->th, NULL, server_main, &r->sv);
  r->s = sink_new();
  r->w = nx_worker_new(deliver, r->s);
  return opts_for(port);
}

void rig_stop(rig *r) {
  pthread_join(r->th, NULL);
  nx_worker_free(r->w);
  close(r->sv.lfd);
  sink_free(r->s);
}
