// Experiment 1 — interaction recovery on synthetic data (Janizek et al. 2021,
// "Explaining Explanations", JMLR; shared/papers/integrated-hessians.md).
//
// x ~ N(0, I_d), y = Σ over planted pairs of term(x_i, x_j) for each kind
// (product, max, min, cos(x_i + x_j), tanh(x_i + x_j)), d ∈ {5, 10}. A 3×64
// ReLU MLP is trained on (x, y) by MSE with Adam, then smoothed (ReLU →
// SoftPlus(10)) and explained. For every test sample the strongest planted
// pair (largest |term|) is the answer; a method scores a hit when its
// largest off-diagonal |Γ_ij| (symmetrised) is that pair:
//     top-1 recovery = (1/N) Σ_n 1[argmax_{i<j} |Γ_ij + Γ_ji|/2 = planted_n].
// Robustness sweep (issue 20, item 3; interaction_sweep.hpp): every verdict is
// judged again with the model smoothed at SoftPlus β = 3 and 30 (every method
// recomputed) and with IH on 8 and 128 nodes (only IH recomputed), on the
// first n_sweep test samples of each (kind, d).
#include <map>
#include <random>
#include <sstream>

#include "attribution/expected_hessians.hpp"
#include "attribution/hessian_baselines.hpp"
#include "attribution/integrated_hessians.hpp"
#include "attribution/interaction_recovery.hpp"
#include "attribution/shapley_interaction.hpp"
#include "experiments/reproduce/common.hpp"
#include "experiments/reproduce/experiment_kinds.hpp"
#include "experiments/reproduce/interaction_sweep.hpp"
#include "experiments/reproduce/planted_truth.hpp"
#include "experiments/reproduce/verdict.hpp"
#include "nn/data/synthetic.hpp"
#include "nn/models/architecture.hpp"
#include "nn/models/smoothing.hpp"
#include "nn/training/adam.hpp"
#include "nn/training/batching.hpp"

namespace fluxion::experiments {

namespace {

std::string mlp_3x64(int d) {
  std::ostringstream s;
  s << R"({"input_shape":[)" << d << R"(],"layers":[{"type":"linear","in":)" << d
    << R"(,"out":64},{"type":"relu"},{"type":"linear","in":64,"out":64},{"type":"relu"},)"
    << R"({"type":"linear","in":64,"out":64},{"type":"relu"},{"type":"linear","in":64,"out":1}]})";
  return s.str();
}

/// Rows `index` of a [n, d] tensor.
Tensor<double> rows(const Tensor<double>& x, const std::vector<std::size_t>& index) {
  const std::size_t d = x.shape()[1];
  Tensor<double> r = Tensor<double>::from_shape({index.size(), d});
  for (std::size_t k = 0; k < index.size(); ++k)
    for (std::size_t j = 0; j < d; ++j) r(k, j) = x(index[k], j);
  return r;
}

/// Mean-squared-error regression with Adam (lr 1e-3, batch 64), seeded.
void train_regressor(Sequential<double>& model, const Tensor<double>& x, const Tensor<double>& y, int epochs,
                     std::uint64_t seed) {
  model.train(true);
  Adam<double> adam(model.named_parameters(), 1e-3);
  std::mt19937_64 rng(seed);
  const std::size_t n = x.shape()[0];
  for (int e = 0; e < epochs; ++e) {
    for (const auto& batch : shuffled_batches(n, 64, rng)) {
      Tensor<double> target = Tensor<double>::from_shape({batch.size(), 1});
      for (std::size_t k = 0; k < batch.size(); ++k) target(k, 0) = y(batch[k]);
      adam.zero_grad();
      Var<double> loss = mse(model.forward(Var<double>(rows(x, batch))), Var<double>(target));
      backward(loss);
      adam.step();
    }
  }
  model.eval();
}

/// Coefficient of determination of the model on (x, y).
double r_squared(Sequential<double>& model, const Tensor<double>& x, const Tensor<double>& y) {
  NoGradGuard no_graph;
  const Tensor<double> pred = model.forward(Var<double>(x)).value();
  double mean = 0;
  for (std::size_t i = 0; i < y.size(); ++i) mean += y(i);
  mean /= double(y.size());
  double ss_res = 0, ss_tot = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    ss_res += (pred(i, 0) - y(i)) * (pred(i, 0) - y(i));
    ss_tot += (y(i) - mean) * (y(i) - mean);
  }
  return 1 - ss_res / ss_tot;
}

/// "<setting>: <count>; …"
std::string change_counts(const std::vector<std::pair<std::string, int>>& counts) {
  std::string list;
  for (const auto& [setting, count] : counts) list += (list.empty() ? "" : "; ") + setting + ": " + std::to_string(count);
  return list;
}

/// The first `count` entries of `all`.
std::vector<double> first(const std::vector<double>& all, std::size_t count) {
  return {all.begin(), all.begin() + std::ptrdiff_t(std::min(count, all.size()))};
}

/// The interaction methods' own settings (not the registry's MethodSettings).
struct InteractionMethodSettings {
  int ih_points = 32;
  std::size_t eh_samples = 100;
  std::uint64_t seed = 0;
};

/// Γ [N, d, d] of `method` on x; IH's largest completeness gap goes to *ih_gap.
Tensor<double> method_interactions(const std::string& method, const ExplainedOutput<double>& out,
                                   const Tensor<double>& x, const Tensor<double>& references,
                                   const InteractionMethodSettings& settings, double* ih_gap) {
  const std::vector<std::size_t> target(x.shape()[0], 0);
  if (method == "integrated_hessians") {
    IntegratedHessiansOptions<double> o;
    o.points = settings.ih_points;
    auto r = integrated_hessians(out, x, target, o);
    if (ih_gap)
      for (double g : r.completeness_gaps) *ih_gap = std::max(*ih_gap, g);
    return std::move(r.interactions);
  }
  if (method == "expected_hessians") {
    ExpectedHessiansOptions o;
    o.samples = settings.eh_samples;
    o.seed = settings.seed;
    return expected_hessians(out, x, references, target, o).interactions;
  }
  if (method == "input_hessian") return input_hessian(out, x, target);
  if (method == "hessian_x_input") return hessian_times_input(out, x, target);
  return shapley_interactions(out, x, target).interactions;
}

}  // namespace

Outcome run_interaction_recovery(const Context& ctx, const std::filesystem::path& dir) {
  const int n_train = by_scale(ctx, 300, 3000, 10000);
  const int n_test = by_scale(ctx, 12, 100, 500);
  const int epochs = by_scale(ctx, 3, 40, 100);
  const std::size_t eh_samples = by_scale<std::size_t>(ctx, 16, 100, 200);
  const int ih_points = 32;
  const double beta = 10;
  // The sweep on the first n_sweep test samples of each (kind, d) (all of them
  // at smoke scale; fewer at quick and full scale for time, so the main
  // settings on those samples are a sweep point too: it shows what the
  // smaller n alone does to a verdict).
  const int n_sweep = std::min(n_test, by_scale(ctx, 12, 40, 200));
  std::vector<InteractionSetting> sweep_settings;
  if (n_sweep < n_test) {
    sweep_settings.push_back({"main settings (β = " + format_number(beta) + ", " + std::to_string(ih_points) +
                                  " nodes)",
                              beta, ih_points, Recomputed::nothing});
  }
  for (const InteractionSetting& s : {InteractionSetting{"SoftPlus β = 3", 3, ih_points, Recomputed::every_method},
                                      InteractionSetting{"SoftPlus β = 30", 30, ih_points, Recomputed::every_method},
                                      InteractionSetting{"IH with 8 nodes", beta, 8, Recomputed::integrated_hessians},
                                      InteractionSetting{"IH with 128 nodes", beta, 128, Recomputed::integrated_hessians}})
    sweep_settings.push_back(s);
  const std::vector<std::string> claim_methods = {"integrated_hessians", "input_hessian", "hessian_x_input",
                                                  "shapley_interaction"};
  const std::vector<std::string> kinds =
      ctx.scale == Scale::smoke ? std::vector<std::string>{"product", "cos"}
                                : std::vector<std::string>{"product", "max", "min", "cos", "tanh"};
  const std::vector<int> dims = ctx.scale == Scale::smoke ? std::vector<int>{5} : std::vector<int>{5, 10};
  const std::vector<std::string> methods = {"integrated_hessians", "expected_hessians", "input_hessian",
                                            "hessian_x_input", "shapley_interaction"};

  Table table, shapley_table;
  table.columns = {"kind", "d", "pairs", "test R²", "Integrated Hessians", "Expected Hessians", "input Hessian",
                   "Hessian × input", "Shapley interaction", "IH completeness gap (max)"};
  shapley_table.columns = {"kind", "d", "Integrated Hessians", "Expected Hessians", "input Hessian",
                           "Hessian × input", "Shapley interaction", "truths that differ from largest |term|"};
  // Per-sample hits of each method, by yardstick ("term" = largest |term(x)|,
  // "shapley" = largest exact Shapley interaction index of the true function),
  // pooled over every setting and per kind (pooled over d).
  std::map<std::string, std::map<std::string, std::vector<double>>> pooled_hits;
  std::map<std::string, std::map<std::string, std::map<std::string, std::vector<double>>>> kind_hits;
  // The same hits under each sweep setting: [setting][yardstick] and [setting][yardstick][kind].
  std::map<std::string, std::map<std::string, MethodHits>> sweep_pooled_hits;
  std::map<std::string, std::map<std::string, std::map<std::string, MethodHits>>> sweep_kind_hits;
  double sweep_seconds = 0;
  // max_n |Γ_n(setting) − Γ_n(main)|_max / |Γ_n(main)|_max of IH, per node-count setting.
  std::map<std::string, double> ih_nodes_change;
  nlohmann::json numbers = nlohmann::json::object();
  for (const auto& kind_name : kinds) {
    for (int d : dims) {
      const auto kind = parse_interaction_kind(kind_name);
      const int pairs = d / 2 - (d == 10 ? 1 : 0);  // d = 5: 2 pairs, d = 10: 4 disjoint pairs
      const std::uint64_t seed = ctx.seed * 7919 + std::uint64_t(d) * 31 + std::uint64_t(kind);
      // One draw (the planted pairs depend on the seed), split into train and test.
      const auto data = make_interaction_dataset(n_train + n_test, d, kind, pairs, seed);
      std::vector<std::size_t> train_rows, test_rows;
      for (int s = 0; s < n_train + n_test; ++s) (s < n_train ? train_rows : test_rows).push_back(std::size_t(s));
      struct Split {
        Tensor<double> x, y;
      };
      auto take = [&](const std::vector<std::size_t>& index) {
        Split r{rows(data.x, index), Tensor<double>::from_shape({index.size()})};
        for (std::size_t k = 0; k < index.size(); ++k) r.y(k) = data.y(index[k]);
        return r;
      };
      const Split train = take(train_rows), test = take(test_rows);
      ctx.progress(kind_name + ", d = " + std::to_string(d) + ": training a 3×64 ReLU MLP on " +
                   std::to_string(n_train) + " samples");
      Sequential<double> model = build_model<double>(mlp_3x64(d), seed, "interaction experiment");
      train_regressor(model, train.x, train.y, epochs, seed);
      const double r2 = r_squared(model, test.x, test.y);

      ExplainedOutput<double> out;
      out.model = as_function(smooth(model, beta));
      out.batch_size = 256;
      const InteractionMethodSettings main_settings{ih_points, eh_samples, seed};
      std::vector<std::pair<int, int>> planted, planted_shapley;
      int truths_differ = 0;
      for (int s = 0; s < n_test; ++s) {
        planted.push_back(strongest_planted_pair(data, n_train + s));
        planted_shapley.push_back(strongest_planted_pair_by_shapley(data, kind, n_train + s));
        truths_differ += planted.back() != planted_shapley.back();
      }
      std::vector<std::string> shapley_row = {kind_name, std::to_string(d)};

      std::vector<MeanAndError> scores;
      double ih_gap = 0;
      std::map<std::string, MethodHits> main_hits;  // [yardstick][method], this (kind, d)
      Tensor<double> main_ih_gamma;
      for (const auto& m : methods) {
        const Tensor<double> gamma = method_interactions(m, out, test.x, train.x, main_settings, &ih_gap);
        if (m == "integrated_hessians") main_ih_gamma = gamma;
        auto rec = top1_interaction_recovery(gamma, planted);
        auto rec_shapley = top1_interaction_recovery(gamma, planted_shapley);
        scores.push_back(rec.top1);
        main_hits["term"][m] = rec.hits;
        main_hits["shapley"][m] = rec_shapley.hits;
        for (const auto& [yardstick, hits] : {std::pair{std::string("term"), rec.hits},
                                              std::pair{std::string("shapley"), rec_shapley.hits}}) {
          auto& pooled = pooled_hits[yardstick][m];
          pooled.insert(pooled.end(), hits.begin(), hits.end());
          auto& by_kind = kind_hits[yardstick][kind_name][m];
          by_kind.insert(by_kind.end(), hits.begin(), hits.end());
        }
        const double se_shapley = std::isfinite(rec_shapley.top1.standard_error) ? rec_shapley.top1.standard_error : 0.0;
        shapley_row.push_back(format_mean_se(rec_shapley.top1.mean, se_shapley, 3));
        numbers[kind_name][key("d", d)][m]["top1_shapley_truth"] = rec_shapley.top1.mean;
        numbers[kind_name][key("d", d)][m]["top1"] = rec.top1.mean;
        numbers[kind_name][key("d", d)][m]["se"] =
            std::isfinite(rec.top1.standard_error) ? rec.top1.standard_error : 0.0;
      }
      // The sweep on the first n_sweep test samples: the claims' methods under each setting.
      {
        const Stopwatch sweep_clock;
        const std::size_t n_sub = std::size_t(n_sweep);
        std::vector<std::size_t> sub(n_sub);
        for (std::size_t k = 0; k < n_sub; ++k) sub[k] = k;
        const Tensor<double> x_sub = rows(test.x, sub);
        const std::vector<std::pair<int, int>> planted_sub(planted.begin(), planted.begin() + std::ptrdiff_t(n_sub)),
            planted_shapley_sub(planted_shapley.begin(), planted_shapley.begin() + std::ptrdiff_t(n_sub));
        for (const InteractionSetting& setting : sweep_settings) {
          ExplainedOutput<double> swept = out;
          if (setting.recomputed == Recomputed::every_method) swept.model = as_function(smooth(model, setting.beta));
          const InteractionMethodSettings method_settings{setting.ih_points, eh_samples, seed};
          for (const auto& m : claim_methods) {
            std::vector<double> term_hits, shapley_hits;
            if (setting.recomputed == Recomputed::nothing ||
                (setting.recomputed == Recomputed::integrated_hessians && m != "integrated_hessians")) {
              term_hits = first(main_hits["term"][m], n_sub);
              shapley_hits = first(main_hits["shapley"][m], n_sub);
            } else {
              const Tensor<double> gamma = method_interactions(m, swept, x_sub, train.x, method_settings, nullptr);
              if (setting.recomputed == Recomputed::integrated_hessians) {
                double& change = ih_nodes_change[setting.label];
                change = std::max(change, max_relative_change(gamma, main_ih_gamma));
              }
              term_hits = top1_interaction_recovery(gamma, planted_sub).hits;
              shapley_hits = top1_interaction_recovery(gamma, planted_shapley_sub).hits;
            }
            for (const auto& [yardstick, hits] :
                 {std::pair{std::string("term"), &term_hits}, std::pair{std::string("shapley"), &shapley_hits}}) {
              auto& pooled = sweep_pooled_hits[setting.label][yardstick][m];
              pooled.insert(pooled.end(), hits->begin(), hits->end());
              auto& by_kind = sweep_kind_hits[setting.label][yardstick][kind_name][m];
              by_kind.insert(by_kind.end(), hits->begin(), hits->end());
            }
          }
        }
        sweep_seconds += sweep_clock.seconds();
      }
      numbers[kind_name][key("d", d)]["test_r2"] = r2;
      numbers[kind_name][key("d", d)]["ih_completeness_gap"] = ih_gap;
      std::vector<std::string> row = {kind_name, std::to_string(d), std::to_string(pairs), format_number(r2, 3)};
      for (const auto& s : scores) row.push_back(format_mean_se(s.mean, std::isfinite(s.standard_error) ? s.standard_error : 0.0, 3));
      row.push_back(format_number(ih_gap, 2));
      table.add_row(row);
      shapley_row.push_back(std::to_string(truths_differ) + " of " + std::to_string(n_test));
      shapley_table.add_row(shapley_row);
    }
  }

  // The paper's claims (interaction_sweep.hpp): IH recovers planted
  // interactions better than the input Hessian and Hessian × input, and on par
  // with Shapley interaction values (margin: 5 points of top-1 recovery).
  // Paired per test sample; each verdict then judged under every sweep setting.
  ctx.progress("robustness sweep (" + std::to_string(sweep_settings.size()) + " settings on " +
               std::to_string(n_sweep) + " test samples per setting): " +
               format_number(sweep_seconds, 3) + " s");
  const std::map<std::string, std::string> yardstick_names = {{"term", "largest |term|"},
                                                              {"shapley", "largest exact Shapley index"}};
  std::vector<Verdict> verdicts, kind_verdicts;
  auto append = [](std::vector<Verdict>& all, const std::vector<Verdict>& some) {
    all.insert(all.end(), some.begin(), some.end());
  };
  for (const std::string yardstick : {"term", "shapley"}) {
    std::vector<Verdict> pooled = interaction_claims(pooled_hits[yardstick], "all kinds and d",
                                                     yardstick_names.at(yardstick));
    for (const InteractionSetting& setting : sweep_settings)
      add_interaction_sweep_points(pooled, setting.label, sweep_pooled_hits[setting.label][yardstick]);
    append(verdicts, pooled);
    for (const auto& kind_name : kinds) {
      std::vector<Verdict> by_kind =
          interaction_claims(kind_hits[yardstick][kind_name], kind_name, yardstick_names.at(yardstick));
      for (const InteractionSetting& setting : sweep_settings)
        add_interaction_sweep_points(by_kind, setting.label, sweep_kind_hits[setting.label][yardstick][kind_name]);
      append(kind_verdicts, by_kind);
    }
  }
  // Which verdicts change with the yardstick (same claim and scope, the two truths).
  std::vector<std::string> changed;
  const std::size_t per_yardstick = kind_verdicts.size() / 2;
  for (std::size_t k = 0; k < per_yardstick; ++k) {
    if (kind_verdicts[k].result != kind_verdicts[k + per_yardstick].result) {
      changed.push_back(kind_verdicts[k].measure.substr(0, kind_verdicts[k].measure.find(", top-1")) + " on " +
                        kinds[(k / 3) % kinds.size()] + ": " + kind_verdicts[k].result + " → " +
                        kind_verdicts[k + per_yardstick].result);
    }
  }
  for (std::size_t k = 0; k < 3; ++k) {
    if (verdicts[k].result != verdicts[k + 3].result) {
      changed.push_back(verdicts[k].measure.substr(0, verdicts[k].measure.find(", top-1")) + " pooled: " +
                        verdicts[k].result + " → " + verdicts[k + 3].result);
    }
  }
  numbers["verdicts"] = verdicts_json(verdicts);
  numbers["verdicts_by_kind"] = verdicts_json(kind_verdicts);
  numbers["verdicts_changed_by_yardstick"] = changed;
  std::vector<Verdict> all_verdicts = verdicts;
  append(all_verdicts, kind_verdicts);
  const DisagreementRobustness robustness = classify_disagreements(all_verdicts);
  {
    nlohmann::json settings = nlohmann::json::array();
    for (const InteractionSetting& setting : sweep_settings)
      settings.push_back({{"setting", setting.label}, {"beta", setting.beta}, {"ih_points", setting.ih_points},
                          {"recomputed", recomputed_name(setting.recomputed)}});
    numbers["verdicts_sweep"] = {{"main", {{"beta", beta}, {"ih_points", ih_points}}},
                                 {"settings", settings},
                                 {"n_per_kind_and_d", n_sweep},
                                 {"n_pooled", n_sweep * int(kinds.size() * dims.size())},
                                 {"ih_nodes_max_relative_change", ih_nodes_change},
                                 {"disagreements_surviving", robustness.survive},
                                 {"disagreements_changing", robustness.change},
                                 {"disagreeing_only_elsewhere", robustness.only_elsewhere}};
  }

  std::ostringstream md;
  md << "Settings: x ~ N(0, I_d); d = 5 with 2 planted pairs, d = 10 with 4 disjoint pairs; " << n_train
     << " training and " << n_test << " test samples per setting; a 3×64 ReLU MLP trained by MSE with Adam "
     << "(lr 1e-3, batch 64, " << epochs << " epochs), explained after SoftPlus(β = 10) smoothing. "
     << "Integrated Hessians: zero baseline, " << ih_points << "-point log-weighted rule; Expected Hessians: "
     << eh_samples << " samples with training points as baselines; Shapley interaction index: exact "
     << "enumeration with the zero baseline. Cells: top-1 recovery of the strongest planted pair, mean ± s.e. "
     << "over the test samples (chance is 1/" << "C(d,2): 10% for d = 5, 2.2% for d = 10).\n\n"
     << table_section(dir, "interaction_recovery", table)
     << "**The yardstick.** The table above calls the planted pair with the largest |term(x)| the true one. "
        "For a cos term |cos(x_i + x_j)| is also the size of the term's own mixed second derivative, the very "
        "quantity the input Hessian reports, so that yardstick favours the Hessian. A ground truth that "
        "favours no method is each planted pair's exact Shapley interaction index of the *true* function "
        "with the zero baseline, Φ_ij = term(a, b) − term(a, 0) − term(0, b) + term(0, 0) (every other "
        "planted term cancels in the discrete mixed difference, and the Shapley weights sum to 1). It favours "
        "none of the Hessian methods; the Shapley interaction column estimates the same index (of the learned "
        "model, also with the zero baseline), so against this truth that column has the home advantage. "
        "Top-1 recovery against that truth:\n\n"
     << table_section(dir, "interaction_recovery_shapley_truth", shapley_table)
     << verdict_section(verdicts) << "Per kind (pooled over d):\n\n"
     << table_section(dir, "interaction_verdicts_by_kind", verdict_table(kind_verdicts, false))
     << "**Verdicts that change with the yardstick:** "
     << (changed.empty() ? std::string("none") : [&] {
          std::string list;
          for (const auto& c : changed) list += (list.empty() ? "" : "; ") + c;
          return list;
        }())
     << ".\n\n"
     << "**Robustness sweep.** Every verdict above is judged again under other settings: the ReLU "
        "network smoothed with SoftPlus β = 3 and β = 30 instead of " << format_number(beta)
     << " (the explained model changes, so every method is recomputed) and Integrated Hessians' log-weighted "
        "rule on 8 and 128 nodes instead of " << ih_points
     << " (only IH is recomputed; the other methods keep their hits), each on the first " << n_sweep << " of the "
     << n_test << " test samples of every kind and d (n = " << n_sweep * int(dims.size())
     << " pairs per kind pooled over d, " << n_sweep * int(kinds.size() * dims.size())
     << " pooled over everything)"
     << (n_sweep < n_test ? "; the main settings on those samples are a sweep point too, to show what the "
                            "smaller n alone does"
                          : "")
     << ". The pooled verdicts' sweeps are tabled under the claims table; the per-kind verdicts' sweeps, as "
        "verdict (effect a − b) per setting, a changed verdict in bold:\n\n"
     << table_section(dir, "interaction_verdict_sweep_by_kind", sweep_grid(kind_verdicts))
     << "**Verdicts changed, by setting** (of " << all_verdicts.size() << ", against the verdict itself): "
     << change_counts(changes_by_setting(all_verdicts)) << "."
     << (n_sweep < n_test ? " Against the main settings on the same " + std::to_string(n_sweep) +
                                " samples per kind and d (what the setting alone does): " +
                                change_counts(changes_by_setting(all_verdicts, sweep_settings.front().label)) + "."
                          : std::string())
     << " Integrated Hessians' Γ moves by at most " << [&] {
          std::string list;
          for (const InteractionSetting& setting : sweep_settings)
            if (setting.recomputed == Recomputed::integrated_hessians)
              list += (list.empty() ? "" : " and ") + format_number(ih_nodes_change.at(setting.label), 2) + " (" +
                      setting.label + ")";
          return list;
        }()
     << " of its largest entry against the " << ih_points << "-node rule, sample by sample (relative).\n\n"
     << disagreement_robustness_text(robustness) << "\n\n"
     << "**Paper vs ours.** The paper reports Integrated Hessians recovering planted interactions far more "
        "often than the Hessian and Hessian×input baselines and on par with (or above) Shapley interaction "
        "values, across the five interaction kinds. The claims tables give our verdict for each, pooled and "
        "per kind, against both truths; where a kind is learned poorly (low test R²) no method can recover "
        "it, which is a property of the trained model rather than of the explainer.\n";
  return {numbers, md.str()};
}

}  // namespace fluxion::experiments
