// The table autodiff/primitives.def is the one list of primitives: every
// entry must have its derivative check in tests/autodiff/test_primitives.cpp,
// either a call `check("<name>", …)` or `check("<name> <case>", …)` (finite
// differences, the dot-product test, batched tangents) or, for a primitive
// that is a constant, a by-value test case titled "<name>: …". Adding a
// primitive without its check fails here. Also: the enum Op and op_name()
// come from the same table, in its order.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "autodiff/autodiff.hpp"

using namespace fluxion;

namespace {

const std::vector<std::string> table_names = {
#define FLUXION_PRIMITIVE(name, parameters) #name,
#include "autodiff/primitives.def"
#undef FLUXION_PRIMITIVE
};

std::string source_file(const std::string& relative) {
  std::ifstream in(std::string(FLUXION_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool has_derivative_check(const std::string& tests, const std::string& name) {
  return tests.find("check(\"" + name + "\"") != std::string::npos ||
         tests.find("check(\"" + name + " ") != std::string::npos ||
         tests.find("TEST_CASE(\"" + name + ": ") != std::string::npos;
}

}  // namespace

TEST_CASE("primitive table: every primitive has a derivative check in test_primitives.cpp") {
  const std::string tests = source_file("tests/autodiff/test_primitives.cpp");
  REQUIRE_FALSE(tests.empty());
  REQUIRE(table_names.size() > 2);  // the table was read
  for (const std::string& name : table_names) {
    CAPTURE(name);
    CHECK(has_derivative_check(tests, name));
  }
  // the matcher itself: a name that is not a primitive has no check
  CHECK_FALSE(has_derivative_check(tests, "no_such_primitive"));
}

TEST_CASE("primitive table: Op and op_name follow the table") {
  CHECK(op_name(Op::leaf) == "leaf");
  CHECK(op_name(Op::dual) == "dual");
  for (std::size_t i = 0; i < table_names.size(); ++i) {
    CAPTURE(table_names[i]);
    CHECK(op_name(static_cast<Op>(i + 2)) == table_names[i]);  // after leaf and dual
  }
  CHECK(op_name(static_cast<Op>(table_names.size() + 2)) == "custom");
  // a node knows the op that made it
  const Var<double> a(Tensor<double>{1.0, 2.0}, true), b(Tensor<double>{3.0, 4.0});
  CHECK(a.op() == Op::leaf);
  CHECK((a * b).op() == Op::mul);
  CHECK((a * b).op_name() == "mul");
  CHECK(tanh(a).op_name() == "tanh");
  CHECK(make_dual(a, Var<double>(Tensor<double>{{1.0, 0.0}})).op() == Op::dual);
}
