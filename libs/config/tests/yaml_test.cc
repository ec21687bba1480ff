#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <catch2/catch.hpp>

#include "flyte/config/load.h"
#include "flyte/config/yaml.h"

using flyte::config::Document;
using flyte::config::Problems;
using flyte::config::Section;
using namespace std::chrono_literals;

namespace {

Document MustParse(const char* yaml) {
  auto doc = Document::Parse(yaml);
  REQUIRE(doc.ok());
  return *doc;
}

}  // namespace

TEST_CASE("durations parse in Go style", "[unit][config]") {
  CHECK(*flyte::config::ParseDuration("1h") == 3600s);
  CHECK(*flyte::config::ParseDuration("30s") == 30s);
  CHECK(*flyte::config::ParseDuration("500ms") == 500ms);
  CHECK(*flyte::config::ParseDuration("1h30m") == 90min);
  CHECK(*flyte::config::ParseDuration("1.5s") == 1500ms);
  CHECK(*flyte::config::ParseDuration("42") == 42s);
  CHECK_FALSE(flyte::config::ParseDuration("").ok());
  CHECK_FALSE(flyte::config::ParseDuration("abc").ok());
  CHECK_FALSE(flyte::config::ParseDuration("-1s").ok());
  CHECK_FALSE(flyte::config::ParseDuration("10x").ok());
  CHECK(flyte::config::FormatDuration(3600s) == "1h");
  CHECK(flyte::config::FormatDuration(1500ms) == "1s500ms");
}

TEST_CASE("every problem is reported at once with its full path", "[unit][config]") {
  Document doc = MustParse(R"(
runs:
  server:
    host: 127.0.0.1
    port: abc
    prot: 1
  watchBufferSize: [1, 2]
database:
  sqlte: {}
)");
  Problems problems;
  Section root = doc.Root(&problems);
  std::string host = "0.0.0.0";
  int port = 8090, buffer = 100;
  if (auto runs = root.Child("runs")) {
    if (auto server = runs->Child("server")) {
      server->String("host", &host);
      server->Int("port", &port, 1, 65535);
      server->Finish();
    }
    runs->Int("watchBufferSize", &buffer, 1, 100000);
    runs->Finish();
  }
  if (auto db = root.Child("database")) db->Finish();
  root.Finish();

  CHECK(host == "127.0.0.1");
  CHECK(port == 8090);  // untouched on error
  REQUIRE(problems.list().size() == 4);
  CHECK(problems.list()[0] == "runs.server.port: expected an integer 1..65535, got 'abc'");
  CHECK(problems.list()[1] == "runs.server.prot: unknown key");
  CHECK(problems.list()[2] == "runs.watchBufferSize: expected an integer 1..100000, got a list");
  CHECK(problems.list()[3] == "database.sqlte: unknown key");
  absl::Status s = problems.ToStatus();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()).find("database.sqlte") != std::string::npos);
}

TEST_CASE("scalar kinds are checked", "[unit][config]") {
  Document doc = MustParse(R"(
a: 70000
b: maybe
c: 10x
d: 1500ms
e: purple
f: 3
g:
)");
  Problems problems;
  Section root = doc.Root(&problems);
  int a = 1;
  bool b = false;
  std::chrono::milliseconds c = 1s;
  std::chrono::seconds d = 1s;
  std::string e = "red";
  size_t f = 0;
  int g = 7;
  root.Int("a", &a, 1, 65535);
  root.Bool("b", &b);
  root.Duration("c", &c);
  root.Duration("d", &d);
  root.Enum("e", &e, {"red", "green"});
  root.Size("f", &f, 1, 10);
  root.Int("g", &g, 0, 10);  // null counts as absent
  root.Finish();
  CHECK(f == 3);
  CHECK(g == 7);
  CHECK(problems.list() == std::vector<std::string>{
                               "a: expected an integer 1..65535, got '70000'",
                               "b: expected true or false, got 'maybe'",
                               "c: expected a duration like 1h, 30s, 500ms, got '10x'",
                               "d: expected whole seconds, got '1s500ms'",
                               "e: expected one of red|green, got 'purple'",
                           });
}

TEST_CASE("secrets come inline, from the environment or from a file", "[unit][config]") {
  auto dir = std::filesystem::temp_directory_path() / ("flyte-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "pw") << "from-file\n";
  ::setenv("FLYTE_CONFIG_TEST_PW", "from-env", 1);
  ::unsetenv("FLYTE_CONFIG_TEST_MISSING");

  std::string yaml = "i: {password: inline}\n"
                     "e: {passwordEnv: FLYTE_CONFIG_TEST_PW}\n"
                     "f: {passwordPath: " + (dir / "pw").string() + "}\n"
                     "m: {passwordEnv: FLYTE_CONFIG_TEST_MISSING}\n"
                     "n: {passwordPath: /nonexistent/pw}\n"
                     "two: {password: x, passwordEnv: FLYTE_CONFIG_TEST_PW}\n";
  auto doc = Document::Parse(yaml);
  REQUIRE(doc.ok());
  Problems problems;
  Section root = doc->Root(&problems);
  std::map<std::string, std::string> got;
  for (const char* k : {"i", "e", "f", "m", "n", "two"}) {
    auto s = root.Child(k);
    REQUIRE(s);
    s->Secret("password", &got[k]);
    s->Finish();
  }
  root.Finish();
  CHECK(got["i"] == "inline");
  CHECK(got["e"] == "from-env");
  CHECK(got["f"] == "from-file");
  CHECK(problems.list() == std::vector<std::string>{
                               "m.passwordEnv: environment variable FLYTE_CONFIG_TEST_MISSING is not set",
                               "n.passwordPath: cannot read '/nonexistent/pw'",
                               "two.password: give only one of password, passwordEnv, passwordPath",
                           });
  std::filesystem::remove_all(dir);
}

TEST_CASE("bad YAML and missing files are errors, not problems", "[unit][config]") {
  auto bad = Document::Parse("a: [1, 2\nb: 3\n");
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()).find("line") != std::string::npos);
  CHECK(Document::LoadFile("/nonexistent/config.yaml").status().code() == absl::StatusCode::kNotFound);

  Problems problems;
  MustParse("- 1\n- 2\n").Root(&problems).Finish();
  CHECK(problems.list() == std::vector<std::string>{"the top level must be a mapping, got a list"});

  Problems none;
  auto empty = MustParse("");
  Section root = empty.Root(&none);
  int x = 5;
  root.Int("x", &x, 0, 10);
  root.Finish();
  CHECK(none.ok());
  CHECK(x == 5);
}

namespace {

struct TinyConfig {
  int port = 8080;
  std::string name = "default";
};

void ReadTiny(Section& root, TinyConfig* cfg) {
  if (auto server = root.Child("server")) {
    server->Int("port", &cfg->port, 1, 65535);
    server->Finish();
  }
  root.String("name", &cfg->name);
}

}  // namespace

TEST_CASE("a service config loads through its schema: defaults, file errors, every problem", "[unit][config]") {
  using flyte::config::LoadConfigFile;
  using flyte::config::ParseConfigText;
  auto dir = std::filesystem::temp_directory_path() / ("flyte-config-load-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "good.yaml").string(), bad = (dir / "bad.yaml").string();
  std::ofstream(good) << "server: {port: 9000}\nname: mine\n";
  std::ofstream(bad) << "a: [1, 2\n";

  // No file: the defaults, as an empty document gives them.
  auto none = LoadConfigFile(std::string(), TinyConfig{}, &ReadTiny);
  REQUIRE(none.ok());
  CHECK(none->port == 8080);
  CHECK(none->name == "default");

  auto loaded = LoadConfigFile(good, TinyConfig{}, &ReadTiny);
  REQUIRE(loaded.ok());
  CHECK(loaded->port == 9000);
  CHECK(loaded->name == "mine");
  CHECK(*Document::LoadFileText(good) == "server: {port: 9000}\nname: mine\n");

  auto missing = LoadConfigFile("/nonexistent/tiny.yaml", TinyConfig{}, &ReadTiny);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message() == "cannot read config file '/nonexistent/tiny.yaml'");
  CHECK(Document::LoadFileText("/nonexistent/tiny.yaml").status() == missing.status());

  auto broken = LoadConfigFile(bad, TinyConfig{}, &ReadTiny);
  CHECK(broken.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(broken.status().message()).rfind(bad + ": invalid YAML at line", 0) == 0);
  CHECK(Document::LoadFileText(bad).status() == broken.status());

  // Problems inside the schema and unknown top-level keys come back together, in the order found.
  auto wrong = ParseConfigText("server: {port: 0}\nnmae: typo\n", TinyConfig{}, &ReadTiny);
  CHECK(wrong.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(wrong.status().message()).find("server.port") != std::string::npos);
  CHECK(std::string(wrong.status().message()).find("nmae: unknown key") != std::string::npos);
  std::filesystem::remove_all(dir);
}
