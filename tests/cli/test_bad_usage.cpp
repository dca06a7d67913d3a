// Calling `fluxion` wrongly: unknown commands, methods and flags, bad flag
// values. Each is exit code 2 with one sentence naming the flag or value,
// and nothing written (tests/cli/expect_failure.hpp).
#include <doctest/doctest.h>

#include "nn/io/npy.hpp"
#include "tests/cli/cli_fixtures.hpp"
#include "tests/cli/expect_failure.hpp"
#include "tests/nn/scratch_dir.hpp"

using namespace fluxion;
using namespace fluxion::testing;

namespace {

struct UsageSetup {
  ScratchDir dir{"cli_usage"};
  UsageSetup() {
    write_tiny_model(dir / "model.safetensors");
    write_npy(dir / "x.npy", filled<double>({4}, 1.0));
  }
  /// `explain` with good files and the given method, plus `extra` arguments.
  std::vector<std::string> explain(const std::string& method, std::vector<std::string> extra = {}) const {
    std::vector<std::string> a{"explain", "--model", "model.safetensors", "--method", method,
                               "--input", "x.npy", "--out", "attr.npy"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  void fails(const std::string& name, std::vector<std::string> args, std::vector<std::string> mentions) const {
    expect_clean_failure(dir.path, {name, std::move(args), 2, std::move(mentions)});
  }
};

}  // namespace

TEST_CASE("usage: unknown method") {
  UsageSetup s;
  s.fails("unknown method", s.explain("integrated_magic"), {"unknown method 'integrated_magic'", "ig"});
}

TEST_CASE("usage: interaction method given to explain") {
  UsageSetup s;
  s.fails("interaction method given to explain", s.explain("ih"), {"'ih'", "fluxion interactions"});
}

TEST_CASE("usage: attribution method given to interactions") {
  UsageSetup s;
  auto args = s.explain("ig");
  args[0] = "interactions";
  s.fails("attribution method given to interactions", args, {"'ig'", "fluxion explain"});
}

TEST_CASE("usage: unknown flag") {
  UsageSetup s;
  s.fails("unknown flag", s.explain("ig", {"--frobnicate"}), {"--frobnicate"});
}

TEST_CASE("usage: unknown command") {
  UsageSetup s;
  s.fails("unknown command", {"explian", "--model", "model.safetensors"}, {"unknown command 'explian'", "explain"});
}

TEST_CASE("usage: missing required flag") {
  UsageSetup s;
  s.fails("missing --out", {"explain", "--model", "model.safetensors", "--method", "ig", "--input", "x.npy"},
          {"--out"});
}

TEST_CASE("usage: negative --steps") {
  UsageSetup s;
  s.fails("--steps -1", s.explain("ig", {"--steps", "-1"}), {"--steps", "-1"});
}

TEST_CASE("usage: --steps that is not a number") {
  UsageSetup s;
  s.fails("--steps abc", s.explain("ig", {"--steps", "abc"}), {"--steps", "abc"});
}

TEST_CASE("usage: --target beyond the model's classes") {
  UsageSetup s;
  s.fails("--target 7 for a 2-class model", s.explain("ig", {"--target", "7"}), {"--target", "7"});
}

TEST_CASE("usage: negative --smooth-beta") {
  UsageSetup s;
  s.fails("--smooth-beta -1", s.explain("ig", {"--smooth-beta", "-1"}), {"--smooth-beta"});
}

TEST_CASE("usage: train with bad values") {
  UsageSetup s;
  const std::vector<std::string> base{"train", "--arch", "mlp", "--out", "m.safetensors", "--data", "none"};
  auto with = [&](std::vector<std::string> extra) {
    auto a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  s.fails("train --epochs 0", with({"--epochs", "0"}), {"epochs"});
  s.fails("train --dtype float16", with({"--dtype", "float16"}), {"--dtype", "float16"});
  s.fails("train --optimizer rmsprop", with({"--optimizer", "rmsprop"}), {"rmsprop"});
  s.fails("train --lr nan", with({"--lr", "nan"}), {"learning rate"});
}

TEST_CASE("usage: reproduce with an unknown experiment") {
  UsageSetup s;
  s.fails("reproduce unknown experiment", {"reproduce", "no-such-experiment", "--smoke", "--out", "results"},
          {"no-such-experiment"});
}
