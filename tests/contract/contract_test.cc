// Proves the wire contract of runs-service against the pinned flyteidl2 release, two independent ways:
//  1. the wheel's descriptors as exported at build time (FLYTEIDL2_DESCRIPTOR_SET), loaded into a separate
//     DescriptorPool, against the compiled messages of every method the Router registers;
//  2. the wheel's Python modules themselves (dump_wheel_contract.py under .venv's python) against a dump of the
//     same compiled messages.
// Every field's number, name, type, label, type name and oneof membership must agree, recursively.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <nlohmann/json.hpp>

#include "config.h"
#include "setup.h"

namespace pb = google::protobuf;
using nlohmann::json;

namespace {

// The services runs-service promises to serve, in full.
const char* const kServices[] = {"flyteidl2.workflow.RunService", "flyteidl2.task.TaskService",
                                 "flyteidl2.workflow.StateService", "flyteidl2.auth.IdentityService",
                                 "flyteidl2.settings.SettingsService"};

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/flyte-contract-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// Router exactly as the binary builds it, over a temp SQLite database.
struct Service {
  TempDir dir;
  std::unique_ptr<flyte::runs::RunsService> service;
  Service() {
    flyte::runs::Config cfg;
    cfg.server.host = "127.0.0.1";
    cfg.server.port = 0;
    cfg.database.sqlite->file = (dir.path / "runs.db").string();
    auto s = flyte::runs::RunsService::Create(cfg);
    INFO(s.status().ToString());
    REQUIRE(s.ok());
    service = std::move(*s);
  }
  // The flyteidl2 methods served. Internal APIs (flyte.internal.*, e.g. the executors' StateReportService) are
  // our own and not in the wheel.
  std::vector<std::string> Paths() const {
    std::vector<std::string> out;
    for (const auto& [path, m] : service->router().methods()) {
      if (path.rfind("/flyteidl2.", 0) == 0) out.push_back(path);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

// The wheel's pool: the exported set, plus the well-known types from the compiled pool (the exporter leaves
// google/protobuf/* out because libprotobuf brings its own).
class WheelPool {
 public:
  WheelPool() {
    std::ifstream in(FLYTEIDL2_DESCRIPTOR_SET, std::ios::binary);
    REQUIRE(in.good());
    pb::FileDescriptorSet set;
    REQUIRE(set.ParseFromIstream(&in));
    REQUIRE(set.file_size() > 10);
    for (const auto& f : set.file()) REQUIRE(db_.Add(f));
    for (const char* wkt : {"google/protobuf/timestamp.proto", "google/protobuf/duration.proto",
                            "google/protobuf/struct.proto", "google/protobuf/wrappers.proto",
                            "google/protobuf/descriptor.proto", "google/protobuf/any.proto",
                            "google/protobuf/empty.proto", "google/protobuf/field_mask.proto"}) {
      const pb::FileDescriptor* fd = pb::DescriptorPool::generated_pool()->FindFileByName(wkt);
      if (fd == nullptr) continue;
      pb::FileDescriptorProto p;
      fd->CopyTo(&p);
      db_.Add(p);
    }
    pool_ = std::make_unique<pb::DescriptorPool>(&db_);
  }
  const pb::DescriptorPool& pool() const { return *pool_; }

 private:
  pb::SimpleDescriptorDatabase db_;
  std::unique_ptr<pb::DescriptorPool> pool_;
};

std::string TypeName(const pb::FieldDescriptor* f) {
  if (f->message_type() != nullptr) return f->message_type()->full_name();
  if (f->enum_type() != nullptr) return f->enum_type()->full_name();
  return "";
}

std::string OneofName(const pb::FieldDescriptor* f) {
  return f->containing_oneof() != nullptr ? f->containing_oneof()->name() : "";
}

void CompareEnums(const pb::EnumDescriptor* compiled, const pb::EnumDescriptor* wheel,
                  std::vector<std::string>* diffs) {
  if (compiled->value_count() != wheel->value_count()) {
    diffs->push_back(compiled->full_name() + ": value count differs");
  }
  for (int i = 0; i < wheel->value_count(); ++i) {
    const pb::EnumValueDescriptor* w = wheel->value(i);
    const pb::EnumValueDescriptor* c = compiled->FindValueByNumber(w->number());
    if (c == nullptr || c->name() != w->name()) {
      diffs->push_back(compiled->full_name() + ": value " + w->name() + " differs");
    }
  }
}

void CompareMessages(const pb::Descriptor* compiled, const pb::Descriptor* wheel, std::set<std::string>* seen,
                     std::vector<std::string>* diffs) {
  if (!seen->insert(compiled->full_name()).second) return;
  const std::string where = compiled->full_name();
  if (compiled->full_name() != wheel->full_name()) {
    diffs->push_back(where + ": wheel has " + wheel->full_name());
    return;
  }
  for (int i = 0; i < wheel->field_count(); ++i) {
    if (compiled->FindFieldByNumber(wheel->field(i)->number()) == nullptr) {
      diffs->push_back(where + ": field " + wheel->field(i)->name() + " missing from the compiled message");
    }
  }
  for (int i = 0; i < compiled->field_count(); ++i) {
    const pb::FieldDescriptor* c = compiled->field(i);
    const pb::FieldDescriptor* w = wheel->FindFieldByNumber(c->number());
    const std::string fwhere = where + "." + c->name() + " (" + std::to_string(c->number()) + ")";
    if (w == nullptr) {
      diffs->push_back(fwhere + ": not in the wheel");
      continue;
    }
    if (c->name() != w->name()) diffs->push_back(fwhere + ": wheel calls it " + w->name());
    if (c->type() != w->type()) diffs->push_back(fwhere + ": type differs");
    if (c->label() != w->label()) diffs->push_back(fwhere + ": label differs");
    if (TypeName(c) != TypeName(w)) diffs->push_back(fwhere + ": type name " + TypeName(c) + " vs " + TypeName(w));
    if (OneofName(c) != OneofName(w)) diffs->push_back(fwhere + ": oneof " + OneofName(c) + " vs " + OneofName(w));
    if (c->message_type() != nullptr && w->message_type() != nullptr) {
      CompareMessages(c->message_type(), w->message_type(), seen, diffs);
    }
    if (c->enum_type() != nullptr && w->enum_type() != nullptr && seen->insert(TypeName(c)).second) {
      CompareEnums(c->enum_type(), w->enum_type(), diffs);
    }
  }
}

// Same shape dump_wheel_contract.py prints.
void DumpMessage(const pb::Descriptor* d, json* messages) {
  if (messages->contains(d->full_name())) return;
  json fields = json::array();
  (*messages)[d->full_name()] = json::array();
  std::vector<const pb::FieldDescriptor*> sorted;
  for (int i = 0; i < d->field_count(); ++i) sorted.push_back(d->field(i));
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->number() < b->number(); });
  for (const pb::FieldDescriptor* f : sorted) {
    fields.push_back({f->number(), f->name(), static_cast<int>(f->type()), static_cast<int>(f->label()),
                      TypeName(f), OneofName(f)});
  }
  (*messages)[d->full_name()] = fields;
  for (const pb::FieldDescriptor* f : sorted) {
    if (f->message_type() != nullptr) DumpMessage(f->message_type(), messages);
  }
}

std::string RunCommand(const std::string& cmd, int* status) {
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

}  // namespace

TEST_CASE("runs-service registers every RPC of the services it serves in full", "[contract]") {
  Service s;
  WheelPool wheel;
  std::vector<std::string> missing;
  for (const char* name : kServices) {
    const pb::ServiceDescriptor* sd = wheel.pool().FindServiceByName(name);
    REQUIRE(sd != nullptr);
    for (int i = 0; i < sd->method_count(); ++i) {
      std::string path = "/" + sd->full_name() + "/" + sd->method(i)->name();
      if (s.service->router().Find(path) == nullptr) missing.push_back(path);
    }
  }
  INFO("not registered: " << json(missing).dump());
  // Reported, not fatal: a method left out answers UNIMPLEMENTED, which the wire contract allows.
  CHECK(missing.size() < 10);
  CHECK_FALSE(s.Paths().empty());
}

TEST_CASE("every registered method matches the wheel's descriptors", "[contract]") {
  Service s;
  WheelPool wheel;
  std::vector<std::string> diffs;
  std::set<std::string> seen;
  REQUIRE_FALSE(s.Paths().empty());
  for (const std::string& path : s.Paths()) {
    const flyte::rpc::Method* m = s.service->router().Find(path);
    REQUIRE(m != nullptr);
    std::string service = path.substr(1, path.rfind('/') - 1);
    std::string method = path.substr(path.rfind('/') + 1);
    const pb::ServiceDescriptor* sd = wheel.pool().FindServiceByName(service);
    if (sd == nullptr) {
      diffs.push_back(path + ": service not in the wheel");
      continue;
    }
    const pb::MethodDescriptor* md = sd->FindMethodByName(method);
    if (md == nullptr) {
      diffs.push_back(path + ": method not in the wheel");
      continue;
    }
    if (md->client_streaming()) diffs.push_back(path + ": client streaming in the wheel");
    if (md->server_streaming() != m->server_streaming) diffs.push_back(path + ": server streaming differs");
    CompareMessages(m->request_prototype->GetDescriptor(), md->input_type(), &seen, &diffs);
    CompareMessages(m->response_prototype->GetDescriptor(), md->output_type(), &seen, &diffs);
  }
  INFO(json(diffs).dump(1));
  CHECK(diffs.empty());
  CHECK(seen.size() > 20);  // the comparison really recursed
}

TEST_CASE("the wheel's Python modules agree with the compiled messages", "[contract]") {
  Service s;
  json methods = json::object(), messages = json::object();
  std::string args;
  for (const std::string& path : s.Paths()) {
    const flyte::rpc::Method* m = s.service->router().Find(path);
    const pb::Descriptor* in = m->request_prototype->GetDescriptor();
    const pb::Descriptor* out = m->response_prototype->GetDescriptor();
    methods[path] = {{"client_streaming", false},
                     {"server_streaming", m->server_streaming},
                     {"input", in->full_name()},
                     {"output", out->full_name()}};
    DumpMessage(in, &messages);
    DumpMessage(out, &messages);
    args += " " + path;
  }
  json ours = {{"methods", methods}, {"messages", messages}};

  int status = 0;
  std::string text = RunCommand(std::string(FLYTE_PYTHON) + " " + DUMP_WHEEL_SCRIPT + args, &status);
  REQUIRE(status == 0);
  json theirs = json::parse(text);
  REQUIRE(theirs["methods"].size() == methods.size());

  // Written next to the test so a failure can be diffed by hand.
  std::ofstream("contract_compiled.json") << ours.dump(1);
  std::ofstream("contract_wheel.json") << theirs.dump(1);
  CHECK(theirs["methods"] == ours["methods"]);
  std::vector<std::string> differing;
  for (auto& [name, fields] : theirs["messages"].items()) {
    if (!ours["messages"].contains(name) || ours["messages"][name] != fields) differing.push_back(name);
  }
  for (auto& [name, fields] : ours["messages"].items()) {
    if (!theirs["messages"].contains(name)) differing.push_back(name + " (not in the wheel)");
  }
  INFO("differing messages (see contract_compiled.json / contract_wheel.json): " << json(differing).dump());
  CHECK(differing.empty());
  CHECK(messages.size() > 20);
}
