// The `fluxion` command-line tool is one CLI11 App with one subcommand per
// file in experiments/cli/. Each file exposes a single registration function
// that adds its subcommand (flags, help text and callback) to the App.
//
// Conventions every subcommand follows:
//  * bad flags or values: one clear sentence on stderr, exit code 2
//    (throw fluxion::cli::UsageError);
//  * bad input files: one sentence naming the file and the problem, exit 1;
//  * outputs are written atomically (temp file + rename);
//  * a correctness gate not met (--tolerance, check): one sentence, exit 3.
#pragma once
#include <stdexcept>
#include <string>

namespace CLI {
class App;
}

namespace fluxion::cli {

// A mistake in how the tool was called (unknown method, bad value). main()
// prints the message and exits with code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A correctness gate the user asked for was not met: `--tolerance` not
// reached within the node cap, or `fluxion check` found an axiom gap above its
// tolerance. main() prints the message and exits with code 3, so a script or
// a researcher's CI can tell "the attribution is not trustworthy" (3) from
// "the command was wrong" (2) and "a file was bad" (1).
struct GateFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One declaration per subcommand, e.g. void register_train_command(CLI::App& app);
void register_train_command(CLI::App& app);
void register_reproduce_command(CLI::App& app);
void register_explain_command(CLI::App& app);  // explain + interactions
void register_check_command(CLI::App& app);
void register_export_command(CLI::App& app);

}  // namespace fluxion::cli
