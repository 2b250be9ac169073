#pragma once

namespace ws2api::test {

// Whether resident memory says anything about leaks in this build. Under
// AddressSanitizer (the test command's second pass) or ThreadSanitizer freed memory
// waits in a quarantine instead of being reused, so RSS grows by design: the suites
// check descriptors there, and LeakSanitizer checks the memory.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool RssIsMeaningful = false;
#elif defined(__has_feature)
inline constexpr bool RssIsMeaningful = !__has_feature(address_sanitizer) && !__has_feature(thread_sanitizer);
#else
inline constexpr bool RssIsMeaningful = true;
#endif

} // namespace ws2api::test
