// The experiments `fluxion reproduce` knows, in report order.
#include "experiments/reproduce/experiment_kinds.hpp"

namespace fluxion::experiments {

std::vector<Experiment> all_experiments() {
  return {
      {"interactions", "1. Interaction recovery on synthetic data (Integrated Hessians paper)", false,
       run_interaction_recovery},
      {"timing", "2. Cost of all-pairs interactions vs d (Integrated Hessians paper)", false, run_timing},
      {"smoothing", "3. SoftPlus smoothing: β sweep and IH row completeness (Integrated Hessians paper)", true,
       run_smoothing},
      {"ig2", "4. IG2 vs the IG family on MNIST (IG2 paper)", true, run_ig2_mnist},
      {"neflag", "5. NeFLAG on MNIST with ablations (NeFLAG paper)", true, run_neflag_mnist},
      {"axioms", "6. Axioms measured for every method (float64)", true, run_axiom_table},
      {"hessian-maps", "7. Expected Hessians interaction maps on MNIST (Integrated Hessians paper)", true,
       run_hessian_maps},
  };
}

}  // namespace fluxion::experiments
