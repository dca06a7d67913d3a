// `fluxion check`: run one method and print every axiom gap that applies to
// it, as numbers, each against its bound (attribution/axiom_checks.hpp has
// the table: completeness, interaction completeness, row completeness,
// symmetry). The completeness bounds are --tolerance (default 1e-3);
// symmetry is bounded by rounding only. If any gap exceeds its bound the
// command exits with code 3 — a researcher's CI can gate on it.
// Dummy-feature, implementation-invariance and linearity checks need a second,
// modified model; `fluxion reproduce axioms` measures them on the MNIST presets.
#include <CLI/CLI.hpp>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "attribution/axiom_checks.hpp"
#include "experiments/cli/commands.hpp"
#include "experiments/cli/explain_inputs.hpp"

namespace fluxion::cli {

namespace {

inline constexpr double default_check_tolerance = 1e-3;

/// One printed line per axiom: its gap, ok or FAILS against its bound, a note.
void print_gap(const AxiomGap& g) {
  std::ostringstream bound;
  bound << std::scientific << std::setprecision(1) << g.tolerance;
  std::cout << "  " << std::left << std::setw(26) << g.axiom << std::scientific << std::setprecision(3)
            << g.relative_gap << (g.holds() ? "  ok (<= " : "  FAILS (> ") << bound.str() << ")"
            << (g.note.empty() ? "" : "   (" + g.note + ")") << "\n";
}

template <class T>
void check_in(const ExplainFlags& f) {
  ExplainSetup<T> s = prepare_explanation<T>(f);
  const double tolerance = f.tolerance.value_or(default_check_tolerance);
  const AxiomCheck<T> check = check_axioms(*s.method, s.explained, s.x, s.targets, s.settings, tolerance);
  std::cout << f.method << " on " << s.x.shape()[0] << " example(s), " << f.dtype << ", " << s.explained.batch_size
            << " points per model call:\n";
  if (check.output.completeness_gaps.empty())
    std::cout << "  completeness              n/a (" << f.method << " has no reference point)\n";
  for (const AxiomGap& g : check.gaps) print_gap(g);
  std::cout << "  dummy feature, implementation invariance, linearity: need a second model; see `fluxion reproduce "
               "axioms`\n";
  if (f.method == "neflag")  // the one method whose default gives an ignored feature a nonzero value (attribution/neflag.hpp)
    std::cout << "  neflag: a feature the model ignores gets a nonzero attribution, the Monte Carlo error of its "
                 "default random sphere points (mean 0, falling like 1/sqrt(n)); `fluxion reproduce axioms` "
                 "reports the number, and the guided search gives 0\n";
  for (const AxiomGap& g : check.gaps) {
    if (g.holds()) continue;
    std::ostringstream msg;
    msg << std::scientific << std::setprecision(3) << "check: " << f.method << ": " << g.axiom << " gap "
        << g.relative_gap << " exceeds its tolerance " << std::setprecision(1) << g.tolerance;
    throw GateFailure(msg.str());  // exit code 3, naming the first failed axiom
  }
}

}  // namespace

void register_check_command(CLI::App& app) {
  auto flags = std::make_shared<ExplainFlags>();
  auto* cmd = app.add_subcommand("check", "Print every applicable axiom gap of a method; exit 3 if one exceeds its "
                                          "tolerance");
  cmd->add_option("--method", flags->method, "Any method of `explain` or `interactions`")->required();
  add_explanation_options(cmd, *flags);
  cmd->add_option("--tolerance", flags->tolerance,
                  "Bound of the relative completeness gaps (default 1e-3); symmetry is bounded by rounding");
  cmd->callback([flags] { with_dtype(flags->dtype, [&]<class T>() { check_in<T>(*flags); }); });
}

}  // namespace fluxion::cli
