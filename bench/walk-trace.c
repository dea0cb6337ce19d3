// Function-entry hooks for bench/event-walk.js: linked only into the
// instrumented copy of the addon it builds (build/walk/, -finstrument-functions).
// Every entry of an instrumented function prints one line to stdout:
//   @C <thread> <depth> <offset of the function in the .node>
// Through the same stdio buffer as node's `--trace` lines, so one thread's C
// and JS lines keep their order; the worker's lines land where they happened.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

// Hidden: glibc has no-op hooks of the same names, which would win at load.
#define NO_TRACE __attribute__((no_instrument_function))
#define HOOK __attribute__((no_instrument_function, visibility("hidden")))

static _Thread_local int depth;
static _Thread_local long tid;
static uintptr_t base;

NO_TRACE static uintptr_t library_base(void) {
  if (base == 0) {
    Dl_info info;
    if (dladdr((void *)&library_base, &info) != 0) base = (uintptr_t)info.dli_fbase;
  }
  return base;
}

HOOK void __cyg_profile_func_enter(void *fn, void *site) {
  (void)site;
  if (tid == 0) tid = (long)syscall(SYS_gettid);
  char thread = tid == (long)getpid() ? 'M' : 'W';
  printf("@C %c%ld %d %lx\n", thread, tid, depth++, (unsigned long)((uintptr_t)fn - library_base()));
}

HOOK void __cyg_profile_func_exit(void *fn, void *site) {
  (void)fn;
  (void)site;
  depth--;
}
