// fluxion: the command-line driver. Subcommands live one per file in
// experiments/cli/; this file only wires them together and turns every
// failure into one readable sentence and an exit code:
//   0 success, 1 runtime failure (bad file, numerical problem), 2 bad usage.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "autodiff/errors.hpp"
#include "experiments/cli/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"fluxion: exact derivatives and trustworthy attributions for neural networks"};
  app.require_subcommand(1);
  // one line per subcommand (declared in commands.hpp):
  fluxion::cli::register_train_command(app);
  fluxion::cli::register_reproduce_command(app);
  fluxion::cli::register_explain_command(app);
  fluxion::cli::register_check_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "fluxion: " << e.what() << " (run with --help for usage)\n";
    return 2;
  } catch (const fluxion::cli::UsageError& e) {
    std::cerr << "fluxion: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "fluxion: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
