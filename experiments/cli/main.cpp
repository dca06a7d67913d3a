// fluxion: the command-line driver. Subcommands live one per file in
// experiments/cli/; this file only wires them together and turns every
// failure into one readable sentence and an exit code:
//   0 success, 1 runtime failure (bad file, numerical problem), 2 bad usage,
//   3 a correctness gate not met (--tolerance, fluxion check).
#include <CLI/CLI.hpp>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <new>
#include <string>
#include <utility>

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
  fluxion::cli::register_export_command(app);
  // CLI11 calls a stray first word "A subcommand is required"; name it instead.
  const auto commands = std::as_const(app).get_subcommands(std::function<bool(const CLI::App*)>{});
  std::string known;
  bool is_known = false;
  for (const auto* c : commands) {
    known += (known.empty() ? "" : ", ") + c->get_name();
    is_known = is_known || (argc >= 2 && c->get_name() == argv[1]);
  }
  if (argc >= 2 && argv[1][0] != '-' && !is_known) {
    std::cerr << "fluxion: unknown command '" << argv[1] << "' (known: " << known << ")\n";
    return 2;
  }
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
  } catch (const fluxion::ArgumentError& e) {
    // a library call refused an option the flags passed through (--steps 0, ...)
    std::cerr << "fluxion: " << e.what() << "\n";
    return 2;
  } catch (const fluxion::cli::GateFailure& e) {
    std::cerr << "fluxion: " << e.what() << "\n";
    return 3;
  } catch (const std::bad_alloc&) {
    std::cerr << "fluxion: not enough memory for this command (try a smaller batch or input)\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    // e.what() is "filesystem error: <call>: <reason> [<path>]"; say it plainly.
    std::cerr << "fluxion: " << e.path1().string() << ": " << e.code().message() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "fluxion: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
