// Linked into ws2apid when WS2API_SANITIZE has address (cmake/sanitizers/CMakeLists.txt).
//
// ASan records where each block was allocated with its fast unwinder, which follows
// frame pointers and so stops at the first frame of a library built without them:
// Debian's libcrypto, libssl and Qt. A leak inside OpenSSL then shows two frames
// (malloc, CRYPTO_zalloc) and nothing of who called it. The daemon gets the slow,
// unwind-table unwinder instead, so its reports show the whole stack and a
// suppression can name the Qt function a leak comes from (lsan.supp). Only the daemon:
// the test binaries allocate far more, and tst_haproxy ran out of its time with it.
// ASAN_OPTIONS still overrides this (fast_unwind_on_malloc=1).
extern "C" __attribute__((visibility("default"), used)) const char *__asan_default_options()
{
    return "fast_unwind_on_malloc=0";
}
