// Error types of the whole project (every layer includes this one header;
// it sits in autodiff only because that is the bottom layer). Every error
// carries one sentence a user can act on, and each type has one meaning:
//   ShapeError     shapes that do not fit together (a caller's bug or a bad model);
//   ArgumentError  an invalid option or argument of a library call (steps = 0,
//                  a negative sigma, an unknown method name): the caller asked
//                  for something that does not exist;
//   InputError     bad bytes or values coming from outside: files and JSON.
// The command line maps them to exit codes in one place
// (experiments/cli/main.cpp): ArgumentError 2 (usage), InputError 1 (files).
#pragma once

#include <stdexcept>
#include <string>

namespace fluxion {

/// Shapes that do not fit together (the message names both shapes).
struct ShapeError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// An invalid option or argument of a library call; the message names the
/// option, the value and what is allowed.
struct ArgumentError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Bad bytes or bad values coming from outside: files and JSON.
/// The message names the file and the problem.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace fluxion
