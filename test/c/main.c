/* Runs the C core's unit tests, without Node, and prints one result line:
 * "C core: N passed, M failed" (scripts/test.js reads it). */
#include <stdio.h>

#include "harness.h"
#include "tests.h"

int passed, failed;

int main(void) {
  test_reader_chunkings();
  test_reader_errors();
  test_reader_slack();
  test_check();
  test_decode_encode();
  test_worker_session();
  test_worker_failures();
  test_keepalive();
  test_check_empty_container_depth();
  test_document_depth();
  test_decoder_matches_msgpack_c();
  test_undecodable_payloads();
  test_backpressure();
  test_end_without_memory();
  test_tape_segments();
  test_tape_wide_map();
  test_tape_any_slack();
  test_tape_answer();
  printf("C core: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
