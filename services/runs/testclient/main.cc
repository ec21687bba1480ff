// runs-testclient: drives a running runs-service (or flyte-manager) through the seed's integration flow over gRPC:
//   1 create a run with an inline task spec   2 create a run with a generated name   3 get run details
//   4 list runs   5 list actions   6 abort an action   7 abort a run
// Every answer is checked; the first failure prints what went wrong and exits 1. Before the flow it creates its
// project through ProjectService when the service does not know it (runs in unknown projects are NOT_FOUND).
//
//   runs-testclient [--endpoint host:port] [--org O] [--project P] [--domain D] [--run-name NAME] [--timeout SECONDS]
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "flyteidl2/project/project_service.grpc.pb.h"
#include "flyteidl2/workflow/run_service.grpc.pb.h"

namespace {

namespace wf = flyteidl2::workflow;
namespace pj = flyteidl2::project;
namespace common = flyteidl2::common;

struct Options {
  std::string endpoint = "localhost:8090";
  std::string org = "testorg";
  std::string project = "testproject";
  std::string domain = "development";
  std::string run_name = "test-run-001";
  int timeout_seconds = 10;
};

constexpr int kExitBadFlags = 2;

void Usage(std::ostream& out) {
  out << "usage: runs-testclient [--endpoint host:port] [--org O] [--project P] [--domain D] [--run-name NAME]\n"
         "                       [--timeout SECONDS]\n"
         "Runs the integration flow against a runs-service (default localhost:8090) and checks every answer.\n";
}

bool ParseFlags(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    const size_t eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (flag != "--help" && flag != "-h") {
      if (i + 1 >= argc) {
        std::cerr << "runs-testclient: " << flag << " needs a value\n";
        return false;
      }
      value = argv[++i];
    }
    if (flag == "--help" || flag == "-h") {
      Usage(std::cout);
      std::exit(0);
    } else if (flag == "--endpoint") {
      o->endpoint = value;
    } else if (flag == "--org") {
      o->org = value;
    } else if (flag == "--project") {
      o->project = value;
    } else if (flag == "--domain") {
      o->domain = value;
    } else if (flag == "--run-name") {
      o->run_name = value;
    } else if (flag == "--timeout") {
      o->timeout_seconds = std::atoi(value.c_str());
      if (o->timeout_seconds <= 0) {
        std::cerr << "runs-testclient: --timeout must be a positive number of seconds\n";
        return false;
      }
    } else {
      std::cerr << "runs-testclient: unknown flag " << flag << "\n";
      return false;
    }
  }
  return !o->endpoint.empty();
}

class Client {
 public:
  explicit Client(const Options& o)
      : o_(o), stub_(wf::RunService::NewStub(grpc::CreateChannel(o.endpoint, grpc::InsecureChannelCredentials()))) {}

  // Each test returns an error message, or "" when the answer is as expected.
  std::string CreateRunWithTaskSpec() {
    wf::CreateRunRequest req;
    *req.mutable_run_id() = RunId(o_.run_name);
    auto* tmpl = req.mutable_task_spec()->mutable_task_template();
    tmpl->mutable_id()->set_name("test-task");
    tmpl->mutable_id()->set_version("v1");
    tmpl->set_type("python");
    // A task that keeps running, so the abort steps below find it unfinished when an executor runs it.
    tmpl->mutable_container()->set_image("local");
    for (const char* arg : {"sh", "-c", "sleep 60"}) tmpl->mutable_container()->add_command(arg);
    req.mutable_task_spec()->set_short_name("test-task");
    wf::CreateRunResponse resp;
    if (std::string e = Call("CreateRun", &wf::RunService::Stub::CreateRun, req, &resp); !e.empty()) return e;
    const auto& id = resp.run().action().id();
    if (id.run().name() != o_.run_name) return "expected run " + o_.run_name + ", got '" + id.run().name() + "'";
    if (id.name().empty()) return "the run has no root action";
    run1_root_ = id;
    std::cout << "\u2713 Run created successfully: " << id.run().name() << "\n";
    return "";
  }

  std::string CreateRunWithGeneratedName() {
    wf::CreateRunRequest req;
    req.mutable_project_id()->set_organization(o_.org);
    req.mutable_project_id()->set_name(o_.project);
    req.mutable_project_id()->set_domain(o_.domain);
    req.mutable_task_spec()->mutable_task_template()->mutable_id()->set_name("test-task");
    req.mutable_task_spec()->mutable_task_template()->set_type("python");
    auto* container = req.mutable_task_spec()->mutable_task_template()->mutable_container();
    container->set_image("local");
    for (const char* arg : {"sh", "-c", "sleep 60"}) container->add_command(arg);
    wf::CreateRunResponse resp;
    if (std::string e = Call("CreateRun", &wf::RunService::Stub::CreateRun, req, &resp); !e.empty()) return e;
    const auto& id = resp.run().action().id();
    if (id.run().name().empty()) return "no run name was generated";
    if (id.run().name() == o_.run_name) return "the generated name repeats " + o_.run_name;
    run2_root_ = id;
    std::cout << "\u2713 Run with auto-generated name created: " << id.run().name() << "\n";
    return "";
  }

  std::string GetRunDetails() {
    wf::GetRunDetailsRequest req;
    *req.mutable_run_id() = run1_root_.run();
    wf::GetRunDetailsResponse resp;
    if (std::string e = Call("GetRunDetails", &wf::RunService::Stub::GetRunDetails, req, &resp); !e.empty()) {
      return e;
    }
    if (resp.details().action().id().run().name() != o_.run_name) {
      return "details are for run '" + resp.details().action().id().run().name() + "'";
    }
    const common::ActionPhase phase = resp.details().action().status().phase();
    std::cout << "\u2713 Retrieved run details: run " << o_.run_name << ", root action "
              << resp.details().action().id().name() << ", phase " << common::ActionPhase_Name(phase) << "\n";
    return "";
  }

  std::string ListRuns() {
    wf::ListRunsRequest req;
    req.mutable_project_id()->set_organization(o_.org);
    req.mutable_project_id()->set_name(o_.project);
    req.mutable_project_id()->set_domain(o_.domain);
    req.mutable_request()->set_limit(100);
    wf::ListRunsResponse resp;
    if (std::string e = Call("ListRuns", &wf::RunService::Stub::ListRuns, req, &resp); !e.empty()) return e;
    bool saw1 = false, saw2 = false;
    for (const wf::Run& r : resp.runs()) {
      saw1 |= r.action().id().run().name() == run1_root_.run().name();
      saw2 |= r.action().id().run().name() == run2_root_.run().name();
    }
    if (!saw1 || !saw2) {
      return "expected both runs in the list of " + std::to_string(resp.runs_size()) + " runs";
    }
    std::cout << "\u2713 Found " << resp.runs_size() << " runs\n";
    return "";
  }

  std::string ListActions() {
    wf::ListActionsRequest req;
    *req.mutable_run_id() = run1_root_.run();
    req.mutable_request()->set_limit(100);
    wf::ListActionsResponse resp;
    if (std::string e = Call("ListActions", &wf::RunService::Stub::ListActions, req, &resp); !e.empty()) return e;
    bool saw_root = false;
    for (const wf::Action& a : resp.actions()) saw_root |= a.id().name() == run1_root_.name();
    if (!saw_root) return "the root action " + run1_root_.name() + " is not listed";
    std::cout << "\u2713 Found " << resp.actions_size() << " actions\n";
    return "";
  }

  std::string AbortAction() {
    wf::AbortActionRequest req;
    *req.mutable_action_id() = run2_root_;
    req.set_reason("runs-testclient: abort action");
    wf::AbortActionResponse resp;
    if (std::string e = Call("AbortAction", &wf::RunService::Stub::AbortAction, req, &resp); !e.empty()) return e;
    if (std::string e = ExpectAborted(run2_root_); !e.empty()) return e;
    std::cout << "\u2713 Action aborted successfully\n";
    return "";
  }

  std::string AbortRun() {
    wf::AbortRunRequest req;
    *req.mutable_run_id() = run1_root_.run();
    req.set_reason("runs-testclient: abort run");
    wf::AbortRunResponse resp;
    if (std::string e = Call("AbortRun", &wf::RunService::Stub::AbortRun, req, &resp); !e.empty()) return e;
    if (std::string e = ExpectAborted(run1_root_); !e.empty()) return e;
    std::cout << "\u2713 Run aborted successfully\n";
    return "";
  }

 private:
  common::RunIdentifier RunId(const std::string& name) const {
    common::RunIdentifier id;
    id.set_org(o_.org);
    id.set_project(o_.project);
    id.set_domain(o_.domain);
    id.set_name(name);
    return id;
  }

  std::string ExpectAborted(const common::ActionIdentifier& id) {
    wf::GetActionDetailsRequest req;
    *req.mutable_action_id() = id;
    wf::GetActionDetailsResponse resp;
    if (std::string e = Call("GetActionDetails", &wf::RunService::Stub::GetActionDetails, req, &resp); !e.empty()) {
      return e;
    }
    const common::ActionPhase phase = resp.details().status().phase();
    if (phase != common::ACTION_PHASE_ABORTED) {
      return "action " + id.run().name() + "/" + id.name() + " is " + common::ActionPhase_Name(phase) +
             ", expected ACTION_PHASE_ABORTED";
    }
    return "";
  }

  template <class Req, class Resp>
  std::string Call(const char* name,
                   grpc::Status (wf::RunService::Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                   const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(o_.timeout_seconds));
    ctx.set_wait_for_ready(true);  // the service may still be binding its port
    grpc::Status s = (stub_.get()->*method)(&ctx, req, resp);
    if (s.ok()) return "";
    return std::string(name) + " failed: " + std::to_string(s.error_code()) + " " + s.error_message();
  }

  Options o_;
  std::unique_ptr<wf::RunService::Stub> stub_;
  common::ActionIdentifier run1_root_;
  common::ActionIdentifier run2_root_;
};

// Creates the client's project unless the service already has it. Not one of the seed's steps, so it prints nothing.
std::string EnsureProject(const Options& o) {
  auto stub = pj::ProjectService::NewStub(grpc::CreateChannel(o.endpoint, grpc::InsecureChannelCredentials()));
  pj::CreateProjectRequest req;
  req.mutable_project()->set_id(o.project);
  req.mutable_project()->set_name(o.project);
  req.mutable_project()->set_org(o.org);
  pj::CreateProjectResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(o.timeout_seconds));
  ctx.set_wait_for_ready(true);  // the service may still be binding its port
  grpc::Status s = stub->CreateProject(&ctx, req, &resp);
  if (s.ok() || s.error_code() == grpc::StatusCode::ALREADY_EXISTS || s.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return "";
  }
  return "CreateProject " + o.project + " failed: " + std::to_string(s.error_code()) + " " + s.error_message();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseFlags(argc, argv, &o)) {
    Usage(std::cerr);
    return kExitBadFlags;
  }
  if (std::string e = EnsureProject(o); !e.empty()) {
    std::cout << "\u2717 " << e << "\n";
    return 1;
  }
  Client client(o);
  struct Step {
    const char* title;
    std::string (Client::*run)();
  };
  const Step steps[] = {
      {"Creating a run with task spec...", &Client::CreateRunWithTaskSpec},
      {"Creating a run with auto-generated name...", &Client::CreateRunWithGeneratedName},
      {"Getting run details...", &Client::GetRunDetails},
      {"Listing runs...", &Client::ListRuns},
      {"Listing actions for the run...", &Client::ListActions},
      {"Aborting an action...", &Client::AbortAction},
      {"Aborting a run...", &Client::AbortRun},
  };
  int n = 0;
  for (const Step& step : steps) {
    std::cout << "Test " << ++n << ": " << step.title << "\n";
    std::string error = (client.*step.run)();
    if (!error.empty()) {
      std::cout << "\u2717 Test " << n << " failed: " << error << "\n";
      return 1;
    }
    std::cout << "\n";
  }
  std::cout << "All tests completed successfully! \U0001F389\n";
  return 0;
}
