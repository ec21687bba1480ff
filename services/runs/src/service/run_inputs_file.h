#pragma once
// A run's inline inputs on local storage: one file per CreateRun request, under a random name in the run's
// directory (<run>/inputs-<16 hex>.pb), written before the run's insert.
//
// Why a name of its own: the file is written before the run claims its name, so that the run's insert can be one
// statement (no transaction held open around a file write). A request that finds the name taken (a duplicate, or a
// concurrent creator of the same name) then only ever wrote its own file, never the inputs of the run that owns
// the name, and a committed run always has its inputs on disk. The price: a crash between the write and the insert
// leaves a file no run refers to.
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace flyte::runs {

// The uri a new run's inputs file gets: `<run_uri>/inputs-<16 random hex digits>.pb` (different on every call).
std::string NewInputsFileUri(const std::string& run_uri);

// Whether `uri` names local storage (file:// or an absolute path): only there are inputs written.
bool IsLocalUri(const std::string& uri);
// The path of a local uri (file:// stripped).
std::string LocalPathOf(const std::string& uri);

// Writes `bytes` to the inputs file `uri` (local), creating its directory (and missing parents). The file must not
// exist yet; a partly written file is removed before the error is returned.
absl::Status WriteNewInputsFile(const std::string& uri, const std::string& bytes);

// Removes an inputs file this request wrote, once no run refers to it (the insert did not happen).
void RemoveInputsFile(const std::string& uri);

}  // namespace flyte::runs
