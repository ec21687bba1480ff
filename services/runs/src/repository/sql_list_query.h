#pragma once
// ListQuery (domain/list_query.h) as SQL for the runs repositories (sql_store.cc): WHERE terms for its filters,
// ORDER BY for its sort keys, LIMIT/OFFSET for its page; the same text for SQLite and PostgreSQL except where a
// function differs (`pg`). Values are always bound parameters.
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "domain/list_query.h"
#include "repository/sql_common.h"

namespace flyte::runs {

// A filterable/sortable column: its SQL, whether it holds integers (values are parsed), whether it may be NULL.
struct Column {
  std::string sql;
  bool integer = false;
  bool nullable = false;
};
using ColumnFn = std::function<absl::StatusOr<Column>(Field)>;

// Columns of `actions` (roots: runs, where kName is the run name) and of `tasks t`. kInvalidArgument for a field
// the table lacks. kLabel has no column: label filters are EXISTS tests on run_labels (runs only).
absl::StatusOr<Column> ActionColumn(Field f, bool roots);
absl::StatusOr<Column> TaskColumn(Field f);

// Appends " AND ..." for every filter of `q`, then " ORDER BY <sort or default_order>, <tiebreak> LIMIT ? OFFSET ?",
// pushing the parameters in order. kInvalidArgument for a filter the column cannot take.
absl::Status AppendFiltersAndOrder(bool pg, const ListQuery& q, const ColumnFn& column,
                                   const std::string& default_order, const std::string& tiebreak, std::string& sql,
                                   std::vector<Value>& params);

template <class T>
void SetNextOffset(const ListQuery& q, Page<T>& page) {
  const uint32_t limit = q.limit == 0 ? 50 : q.limit;
  if (page.items.size() >= limit) page.next_offset = q.offset + limit;
}

}  // namespace flyte::runs
