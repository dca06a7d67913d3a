// Error types. Every error carries one sentence a user can act on.
#pragma once

#include <stdexcept>
#include <string>

namespace fluxion {

/// Shapes that do not fit together (the message names both shapes).
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Bad bytes or bad values coming from outside: files, flags, JSON.
/// The message names the file (or flag) and the problem.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace fluxion
