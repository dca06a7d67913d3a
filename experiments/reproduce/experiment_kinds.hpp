// The experiments, one function each (one file each in this folder).
#pragma once
#include "experiments/reproduce/experiment.hpp"

namespace fluxion::experiments {

Outcome run_interaction_recovery(const Context& ctx, const std::filesystem::path& dir);
Outcome run_timing(const Context& ctx, const std::filesystem::path& dir);
Outcome run_smoothing(const Context& ctx, const std::filesystem::path& dir);
Outcome run_ig2_mnist(const Context& ctx, const std::filesystem::path& dir);
Outcome run_neflag_mnist(const Context& ctx, const std::filesystem::path& dir);
Outcome run_axiom_table(const Context& ctx, const std::filesystem::path& dir);
Outcome run_hessian_maps(const Context& ctx, const std::filesystem::path& dir);

}  // namespace fluxion::experiments
