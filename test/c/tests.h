/* The test functions main.c runs, by the file that holds them. */
#ifndef NX_TEST_TESTS_H
#define NX_TEST_TESTS_H

/* test_codec.c */
void test_reader_chunkings(void);
void test_reader_errors(void);
void test_reader_slack(void);
void test_check(void);
void test_decode_encode(void);
void test_check_empty_container_depth(void);
void test_document_depth(void);
void test_decoder_matches_msgpack_c(void);

/* test_worker.c */
void test_worker_session(void);
void test_worker_failures(void);
void test_keepalive(void);
void test_undecodable_payloads(void);
void test_backpressure(void);

/* test_out_of_memory.c */
void test_end_without_memory(void);

/* test_tape.c */
void test_tape_segments(void);
void test_tape_wide_map(void);
void test_tape_any_slack(void);
void test_tape_answer(void);

#endif
