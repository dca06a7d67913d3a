// The tutorials quote the code they teach. A quote that no longer matches the
// sources teaches something that is not there (docs/01 once quoted
// `xt::tanh` after rules.cpp had moved to kernels::map), so every line of
// every ```cpp block in README.md and docs/*.md must be a line of the
// project's C++ sources (autodiff/, nn/, attribution/, experiments/,
// docs/examples/, benchmarks/), compared
//   * with whitespace runs collapsed, and
//   * with a trailing // comment removed on both sides (a quote may annotate).
// Lines that are empty, only a comment, or "..." (an elision) are free.
// A block fenced as ```cpp sketch is an illustration, not a quote, and is
// exempt (GitHub still highlights it as C++).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

/// The line without a trailing // comment (outside string and character
/// literals), whitespace runs collapsed to one space, trimmed.
std::string normalised(const std::string& line) {
  std::string code;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == '\\' && i + 1 < line.size()) {
        code += c;
        code += line[++i];
        continue;
      }
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '/' && i + 1 < line.size() && line[i + 1] == '/') {
      break;
    }
    code += c;
  }
  std::string out;
  std::istringstream words(code);
  for (std::string w; words >> w;) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

/// Every normalised line of every .cpp/.hpp below the source folders.
std::set<std::string> source_lines(const fs::path& root) {
  std::set<std::string> all;
  for (const char* folder : {"autodiff", "nn", "attribution", "experiments", "docs/examples", "benchmarks"}) {
    for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
      for (const auto& l : lines_of(entry.path())) all.insert(normalised(l));
    }
  }
  return all;
}

struct Quote {
  std::string file;
  std::size_t line = 0;  // 1-based, in the .md file
  std::string text;
};

/// The lines of the ```cpp blocks of one Markdown file (```cpp sketch excluded).
std::vector<Quote> quoted_lines(const fs::path& md) {
  std::vector<Quote> quotes;
  const auto lines = lines_of(md);
  bool in_quote = false, in_other = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string fence = normalised(lines[i]);
    if (fence.rfind("```", 0) == 0) {
      if (in_quote || in_other) {
        in_quote = in_other = false;
      } else if (fence == "```cpp") {
        in_quote = true;
      } else {
        in_other = true;
      }
      continue;
    }
    if (in_quote) quotes.push_back({md.filename().string(), i + 1, lines[i]});
  }
  return quotes;
}

}  // namespace

TEST_CASE("docs: every C++ line quoted in README.md and docs/*.md exists in the sources") {
  const fs::path root = FLUXION_SOURCE_DIR;
  const std::set<std::string> sources = source_lines(root);
  REQUIRE(sources.size() > 1000);  // the folders were found

  std::vector<fs::path> pages{root / "README.md"};
  for (const auto& entry : fs::directory_iterator(root / "docs"))
    if (entry.path().extension() == ".md") pages.push_back(entry.path());
  std::size_t checked = 0;
  for (const auto& page : pages) {
    for (const Quote& q : quoted_lines(page)) {
      const std::string code = normalised(q.text);
      if (code.empty() || code == "...") continue;
      ++checked;
      CHECK_MESSAGE(sources.count(code) == 1,
                    q.file << ":" << q.line << " quotes a line that is in no source file: " << q.text);
    }
  }
  MESSAGE(checked << " quoted lines checked");
  CHECK(checked >= 40);  // the tutorials quote code; a parser that found none would pass vacuously
}

TEST_CASE("docs: the quote checker's normalisation keeps code and drops comments and spacing") {
  CHECK(normalised("  int  a = 1;   // one") == "int a = 1;");
  CHECK(normalised("s = \"a//b\";  // c") == "s = \"a//b\";");
  CHECK(normalised("// only a comment") == "");
  CHECK(normalised("c = '/'; d = 2; // x") == "c = '/'; d = 2;");
}

TEST_CASE("docs: the README's table of build options gives meson_options.txt's defaults") {
  const fs::path root = FLUXION_SOURCE_DIR;
  // meson_options.txt: option('NAME', type: ..., value: VALUE, ...), one per option.
  std::string options;
  for (const auto& l : lines_of(root / "meson_options.txt")) options += l + "\n";
  std::size_t rows = 0;
  for (const auto& l : lines_of(root / "README.md")) {
    // | `NAME` | `VALUE` | what it does |
    if (l.rfind("| `", 0) != 0) continue;
    const std::size_t name_end = l.find('`', 3);
    const std::size_t value_start = l.find("| `", name_end);
    if (name_end == std::string::npos || value_start == std::string::npos) continue;
    const std::string name = l.substr(3, name_end - 3);
    const std::size_t value_end = l.find('`', value_start + 3);
    const std::string value = l.substr(value_start + 3, value_end - value_start - 3);
    const std::size_t at = options.find("option('" + name + "'");
    if (at == std::string::npos) continue;  // a table of something else
    ++rows;
    const std::size_t v = options.find("value: ", at);
    REQUIRE(v != std::string::npos);
    std::string want = options.substr(v + 7, options.find_first_of(",)", v) - v - 7);
    if (want.size() >= 2 && want.front() == '\'') want = want.substr(1, want.size() - 2);
    CHECK_MESSAGE(value == want, "README.md says option " << name << " defaults to " << value
                                                           << ", meson_options.txt says " << want);
  }
  CHECK(rows == 6);  // every option of meson_options.txt has its row
}
