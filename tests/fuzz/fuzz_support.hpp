// What every libFuzzer harness in tests/fuzz shares: the rule for which
// outcomes of a reader are fine and which are findings.
//
//   fine     the reader returns, or throws InputError whose message starts
//            with "<source>: " (the documented error, naming the input)
//   finding  anything else: another exception type (libFuzzer reports the
//            uncaught exception), a message that does not name the input,
//            a broken invariant of the result (finding() aborts), and of
//            course crashes, sanitizer reports, hangs and out-of-memory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "autodiff/errors.hpp"

namespace fluxion::fuzz {

/// libFuzzer's input as the byte string the readers take.
inline std::string_view bytes_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Reports a broken invariant; abort() makes libFuzzer save the input.
[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

/// Runs `read` (a reader applied to input named `source`): true if it
/// returned, false if it threw a well-formed InputError. Any other exception
/// escapes to libFuzzer, which reports it as a crash.
template <class Read>
bool accepts(const std::string& source, Read&& read) {
  try {
    read();
    return true;
  } catch (const InputError& e) {
    const std::string_view message = e.what();
    if (message.substr(0, source.size() + 2) != source + ": ")
      finding("InputError does not name the input '" + source + "': " + std::string(message));
    return false;
  }
}

}  // namespace fluxion::fuzz
