#include "flyte/config/yaml.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>
#include "absl/strings/str_join.h"

namespace flyte::config {

namespace {
// absl::StrCat on Debian's abseil does not take std::string_view; fmt does.
template <class... A>
std::string Cat(const A&... a) {
  std::string s;
  ((s += fmt::format("{}", a)), ...);
  return s;
}
}  // namespace

struct Document::Impl {
  YAML::Node root;
};

struct Section::Node {
  YAML::Node node;
};

namespace {

std::string Describe(const YAML::Node& n) {
  if (n.IsScalar()) return Cat("'", n.Scalar(), "'");
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

bool ParseInt64(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

}  // namespace

void Problems::Add(std::string_view path, std::string_view message) {
  list_.push_back(path.empty() ? std::string(message) : Cat(path, ": ", message));
}

std::string Problems::ToString() const { return absl::StrJoin(list_, "\n"); }

absl::Status Problems::ToStatus() const {
  if (ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(ToString());
}

absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        Cat("expected a duration like 1h, 30s, 500ms, got '", text, "'"));
  };
  if (text.empty()) return bad();
  bool all_digits = true;
  for (char c : text) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits) {
    int64_t secs;
    if (!ParseInt64(std::string(text), &secs)) return bad();
    return std::chrono::milliseconds(secs * 1000);
  }
  // Sequence of <number><unit>, Go style ("1h30m"). Fractions are allowed ("1.5s").
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == start) return bad();
    double value = std::strtod(std::string(text.substr(start, i - start)).c_str(), nullptr);
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    double scale;
    if (unit == "h") scale = 3'600'000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "s") scale = 1000;
    else if (unit == "ms") scale = 1;
    else if (unit == "us" || unit == "µs") scale = 0.001;
    else return bad();
    total_ms += value * scale;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms + 0.5));
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  const std::pair<int64_t, const char*> units[] = {{3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (auto [scale, name] : units) {
    if (ms >= scale) {
      absl::StrAppend(&out, ms / scale, name);
      ms %= scale;
    }
  }
  return out;
}

absl::StatusOr<Document> Document::Parse(std::string_view yaml) {
  Document doc;
  doc.impl_ = std::make_shared<Impl>();
  try {
    doc.impl_->root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(Cat("invalid YAML at line ", e.mark.line + 1, ", column ",
                                                   e.mark.column + 1, ": ", e.msg));
  }
  return doc;
}

namespace {

// Document::LoadFile, also handing back the text it parsed.
absl::StatusOr<Document> LoadWithText(const std::string& path, std::string* text) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(Cat("cannot read config file '", path, "'"));
  std::stringstream ss;
  ss << in.rdbuf();
  *text = ss.str();
  absl::StatusOr<Document> doc = Document::Parse(*text);
  if (!doc.ok()) return absl::InvalidArgumentError(Cat(path, ": ", std::string(doc.status().message())));
  return doc;
}

}  // namespace

absl::StatusOr<Document> Document::LoadFile(const std::string& path) {
  std::string text;
  return LoadWithText(path, &text);
}

absl::StatusOr<std::string> Document::LoadFileText(const std::string& path) {
  std::string text;
  absl::StatusOr<Document> doc = LoadWithText(path, &text);
  if (!doc.ok()) return doc.status();
  return text;
}

Section Document::Root(Problems* problems) const {
  auto node = std::make_shared<Section::Node>();
  if (impl_->root.IsMap()) {
    node->node = impl_->root;
  } else if (impl_->root.IsDefined() && !impl_->root.IsNull()) {
    problems->Add("", Cat("the top level must be a mapping, got ", Describe(impl_->root)));
  }
  return Section(std::move(node), "", problems);
}

Section::Section(std::shared_ptr<Node> node, std::string path, Problems* problems)
    : node_(std::move(node)), path_(std::move(path)), problems_(problems) {}

std::string Section::KeyPath(std::string_view key) const {
  return path_.empty() ? std::string(key) : Cat(path_, ".", key);
}

bool Section::Has(std::string_view key) const {
  if (!node_->node.IsMap()) return false;
  YAML::Node v = node_->node[std::string(key)];
  return v.IsDefined() && !v.IsNull();
}

// Returns the value if present and a scalar; records the key as known either way.
#define FLYTE_CONFIG_SCALAR_OR_RETURN(var, key, what)                                         \
  known_.emplace_back(key);                                                                   \
  if (!Has(key)) return;                                                                      \
  YAML::Node var = node_->node[std::string(key)];                                             \
  if (!var.IsScalar()) {                                                                      \
    problems_->Add(KeyPath(key), Cat("expected ", what, ", got ", Describe(var)));   \
    return;                                                                                   \
  }

void Section::String(std::string_view key, std::string* out) {
  FLYTE_CONFIG_SCALAR_OR_RETURN(v, key, "a string");
  *out = v.Scalar();
}

void Section::Enum(std::string_view key, std::string* out, const std::vector<std::string>& allowed) {
  std::string what = Cat("one of ", absl::StrJoin(allowed, "|"));
  FLYTE_CONFIG_SCALAR_OR_RETURN(v, key, what);
  for (const std::string& a : allowed) {
    if (v.Scalar() == a) {
      *out = a;
      return;
    }
  }
  problems_->Add(KeyPath(key), Cat("expected ", what, ", got '", v.Scalar(), "'"));
}

void Section::Int(std::string_view key, int* out, int64_t min, int64_t max) {
  std::string what = Cat("an integer ", min, "..", max);
  FLYTE_CONFIG_SCALAR_OR_RETURN(v, key, what);
  int64_t value;
  if (!ParseInt64(v.Scalar(), &value) || value < min || value > max) {
    problems_->Add(KeyPath(key), Cat("expected ", what, ", got '", v.Scalar(), "'"));
    return;
  }
  *out = static_cast<int>(value);
}

void Section::Size(std::string_view key, size_t* out, uint64_t min, uint64_t max) {
  std::string what = Cat("an integer ", min, "..", max);
  FLYTE_CONFIG_SCALAR_OR_RETURN(v, key, what);
  int64_t value;
  if (!ParseInt64(v.Scalar(), &value) || value < 0 || static_cast<uint64_t>(value) < min ||
      static_cast<uint64_t>(value) > max) {
    problems_->Add(KeyPath(key), Cat("expected ", what, ", got '", v.Scalar(), "'"));
    return;
  }
  *out = static_cast<size_t>(value);
}

void Section::Bool(std::string_view key, bool* out) {
  FLYTE_CONFIG_SCALAR_OR_RETURN(v, key, "true or false");
  const std::string& s = v.Scalar();
  if (s == "true" || s == "True" || s == "TRUE") {
    *out = true;
  } else if (s == "false" || s == "False" || s == "FALSE") {
    *out = false;
  } else {
    problems_->Add(KeyPath(key), Cat("expected true or false, got '", s, "'"));
  }
}

void Section::Duration(std::string_view key, std::chrono::milliseconds* out) {
  FLYTE_CONFIG_SCALAR_OR_RETURN(v, key, "a duration");
  absl::StatusOr<std::chrono::milliseconds> d = ParseDuration(v.Scalar());
  if (!d.ok()) {
    problems_->Add(KeyPath(key), std::string(d.status().message()));
    return;
  }
  *out = *d;
}

void Section::Duration(std::string_view key, std::chrono::seconds* out) {
  std::chrono::milliseconds ms(-1);
  size_t before = problems_->list().size();
  Duration(key, &ms);
  if (ms.count() < 0 || problems_->list().size() != before) return;
  if (ms.count() % 1000 != 0) {
    problems_->Add(KeyPath(key), Cat("expected whole seconds, got '", FormatDuration(ms), "'"));
    return;
  }
  *out = std::chrono::duration_cast<std::chrono::seconds>(ms);
}

#undef FLYTE_CONFIG_SCALAR_OR_RETURN

void Section::Secret(std::string_view key, std::string* out) {
  const std::string env_key = Cat(key, "Env");
  const std::string path_key = Cat(key, "Path");
  int given = Has(key) + Has(env_key) + Has(path_key);
  if (given > 1) {
    known_.insert(known_.end(), {std::string(key), env_key, path_key});
    problems_->Add(KeyPath(key), Cat("give only one of ", key, ", ", env_key, ", ", path_key));
    return;
  }
  String(key, out);
  std::string env_name;
  String(env_key, &env_name);
  if (!env_name.empty()) {
    const char* value = std::getenv(env_name.c_str());
    if (value == nullptr) {
      problems_->Add(KeyPath(env_key), Cat("environment variable ", env_name, " is not set"));
    } else {
      *out = value;
    }
  }
  std::string file;
  String(path_key, &file);
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) {
      problems_->Add(KeyPath(path_key), Cat("cannot read '", file, "'"));
    } else {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string s = ss.str();
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
      *out = std::move(s);
    }
  }
}

std::optional<Section> Section::Child(std::string_view key) {
  known_.emplace_back(key);
  if (!Has(key)) return std::nullopt;
  YAML::Node v = node_->node[std::string(key)];
  if (!v.IsMap()) {
    problems_->Add(KeyPath(key), Cat("expected a mapping, got ", Describe(v)));
    return std::nullopt;
  }
  auto child = std::make_shared<Node>();
  child->node = v;
  return Section(std::move(child), KeyPath(key), problems_);
}

bool Section::RawYaml(std::string_view key, std::string* out) {
  known_.emplace_back(key);
  if (!Has(key)) return false;
  YAML::Emitter emitter;
  emitter << node_->node[std::string(key)];
  *out = emitter.c_str();
  return true;
}

void Section::Ignore(std::string_view key) { known_.emplace_back(key); }

void Section::Finish() {
  if (!node_->node.IsMap()) return;
  for (const auto& kv : node_->node) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    bool found = false;
    for (const std::string& k : known_) found = found || k == key;
    if (!found) problems_->Add(KeyPath(key), "unknown key");
  }
}

}  // namespace flyte::config
