#include "repository/sql_list_query.h"

#include "absl/strings/numbers.h"

namespace flyte::runs {
namespace {

std::string EscapeLike(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '%' || c == '_') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

absl::Status AppendFilter(bool pg, const Column& col, const Filter& f, std::string& sql,
                          std::vector<Value>& params) {
  auto value = [&](const std::string& v) -> absl::StatusOr<Value> {
    if (!col.integer) return Value(v);
    int64_t n;
    if (!absl::SimpleAtoi(v, &n)) return absl::InvalidArgumentError("filter value '" + v + "' is not a number");
    return Value(n);
  };
  const bool needs_one = f.op != FilterOp::kExists && f.op != FilterOp::kNotExists && f.op != FilterOp::kValueIn &&
                         f.op != FilterOp::kValueNotIn;
  if (needs_one && f.values.size() != 1) return absl::InvalidArgumentError("filter needs exactly one value");
  const bool text_op = f.op == FilterOp::kContains || f.op == FilterOp::kEndsWith ||
                       f.op == FilterOp::kNotEndsWith || f.op == FilterOp::kContainsCaseInsensitive;
  if (text_op && col.integer) return absl::InvalidArgumentError("text filter on a non-text field");
  const std::string& c = col.sql;
  auto binary = [&](const char* op) -> absl::Status {
    absl::StatusOr<Value> v = value(f.values[0]);
    if (!v.ok()) return v.status();
    sql += " AND " + c + " " + op + " ?";
    params.push_back(std::move(*v));
    return absl::OkStatus();
  };
  switch (f.op) {
    case FilterOp::kEqual: return binary("=");
    case FilterOp::kNotEqual:
      // NULL-safe so "parent != x" still matches roots.
      if (col.nullable) {
        sql += " AND (" + c + " IS NULL OR " + c + " <> ?)";
        absl::StatusOr<Value> v = value(f.values[0]);
        if (!v.ok()) return v.status();
        params.push_back(std::move(*v));
        return absl::OkStatus();
      }
      return binary("<>");
    case FilterOp::kGreaterThan: return binary(">");
    case FilterOp::kGreaterOrEqual: return binary(">=");
    case FilterOp::kLessThan: return binary("<");
    case FilterOp::kLessOrEqual: return binary("<=");
    case FilterOp::kContains:
      // instr/strpos: case-sensitive on both (SQLite's LIKE is not).
      sql += std::string(" AND ") + (pg ? "STRPOS(" : "INSTR(") + c + ", ?) > 0";
      params.push_back(f.values[0]);
      return absl::OkStatus();
    case FilterOp::kContainsCaseInsensitive:
      sql += " AND LOWER(" + c + ") LIKE LOWER(?) ESCAPE '\\'";
      params.push_back("%" + EscapeLike(f.values[0]) + "%");
      return absl::OkStatus();
    case FilterOp::kEndsWith:
    case FilterOp::kNotEndsWith: {
      const char* neg = f.op == FilterOp::kEndsWith ? "" : "NOT ";
      sql += std::string(" AND ") + neg + "(LENGTH(" + c + ") >= LENGTH(?) AND SUBSTR(" + c + ", LENGTH(" + c +
             ") - LENGTH(?) + 1) = ?)";
      params.insert(params.end(), {f.values[0], f.values[0], f.values[0]});
      return absl::OkStatus();
    }
    case FilterOp::kValueIn:
    case FilterOp::kValueNotIn: {
      if (f.values.empty()) {
        sql += f.op == FilterOp::kValueIn ? " AND 1 = 0" : "";
        return absl::OkStatus();
      }
      std::string list;
      for (const std::string& v : f.values) {
        absl::StatusOr<Value> pv = value(v);
        if (!pv.ok()) return pv.status();
        params.push_back(std::move(*pv));
        list += list.empty() ? "?" : ", ?";
      }
      if (f.op == FilterOp::kValueIn) {
        sql += " AND " + c + " IN (" + list + ")";
      } else {
        sql += " AND (" + c + " IS NULL OR " + c + " NOT IN (" + list + "))";
      }
      return absl::OkStatus();
    }
    case FilterOp::kExists:
      sql += " AND " + c + " IS NOT NULL" + (col.integer ? "" : " AND " + c + " <> ''");
      return absl::OkStatus();
    case FilterOp::kNotExists:
      sql += " AND (" + c + " IS NULL" + (col.integer ? ")" : " OR " + c + " = '')");
      return absl::OkStatus();
  }
  return absl::InvalidArgumentError("unknown filter operator");
}

// A run's labels are rows of run_labels (written with the run); `labels.<key>` filters are EXISTS tests against
// them, which the (org, project, domain, label_key, label_value) index answers without reading run specs.
absl::Status AppendLabelFilter(const Filter& f, std::string& sql, std::vector<Value>& params) {
  if (f.key.empty()) return absl::InvalidArgumentError("a label filter needs a key");
  const std::string lookup =
      "SELECT 1 FROM run_labels l WHERE l.org = actions.org AND l.project = actions.project AND "
      "l.domain = actions.domain AND l.run_name = actions.run_name AND l.label_key = ?";
  params.push_back(f.key);
  switch (f.op) {
    case FilterOp::kExists:
      sql += " AND EXISTS (" + lookup + ")";
      return absl::OkStatus();
    case FilterOp::kNotExists:
      sql += " AND NOT EXISTS (" + lookup + ")";
      return absl::OkStatus();
    case FilterOp::kEqual:
    case FilterOp::kNotEqual:
    case FilterOp::kValueIn: {
      if (f.values.empty() || (f.op != FilterOp::kValueIn && f.values.size() != 1)) {
        return absl::InvalidArgumentError("label filter needs a value");
      }
      std::string list;
      for (const std::string& v : f.values) {
        params.push_back(v);
        list += list.empty() ? "?" : ", ?";
      }
      sql += std::string(f.op == FilterOp::kNotEqual ? " AND NOT EXISTS (" : " AND EXISTS (") + lookup +
             " AND l.label_value IN (" + list + "))";
      return absl::OkStatus();
    }
    default:
      return absl::InvalidArgumentError("label filters support EQUAL, NOT_EQUAL, VALUE_IN, EXISTS, NOT_EXISTS");
  }
}

}  // namespace

absl::StatusOr<Column> ActionColumn(Field f, bool roots) {
  switch (f) {
    case Field::kName: return Column{roots ? "run_name" : "name"};
    case Field::kRunName: return Column{"run_name"};
    case Field::kPhase: return Column{"phase", true};
    case Field::kParent: return Column{"parent_name", false, true};
    case Field::kActionType: return Column{"action_type", true};
    case Field::kCreatedAt: return Column{"created_at", true};
    case Field::kUpdatedAt: return Column{"updated_at", true};
    case Field::kEndedAt: return Column{"ended_at", true, true};
    case Field::kTaskName: return Column{"task_name"};
    case Field::kTaskVersion: return Column{"task_version"};
    case Field::kShortName: return Column{"short_name"};
    case Field::kEnvironment: return Column{"environment"};
    case Field::kProject: return Column{"project"};
    case Field::kDomain: return Column{"domain"};
    case Field::kCreatedBy: return Column{"created_by"};
    case Field::kLabel: break;  // AppendLabelFilter
  }
  return absl::InvalidArgumentError("field not supported for actions");
}

absl::StatusOr<Column> TaskColumn(Field f) {
  switch (f) {
    case Field::kName:
    case Field::kTaskName: return Column{"t.name"};
    case Field::kTaskVersion: return Column{"t.version"};
    case Field::kEnvironment: return Column{"t.environment"};
    case Field::kShortName: return Column{"t.short_name"};
    case Field::kCreatedAt: return Column{"t.created_at", true};
    case Field::kUpdatedAt: return Column{"t.updated_at", true};
    case Field::kProject: return Column{"t.project"};
    case Field::kDomain: return Column{"t.domain"};
    default: return absl::InvalidArgumentError("field not supported for tasks");
  }
}

absl::Status AppendFiltersAndOrder(bool pg, const ListQuery& q, const ColumnFn& column,
                                   const std::string& default_order, const std::string& tiebreak, std::string& sql,
                                   std::vector<Value>& params) {
  for (const Filter& f : q.filters) {
    if (f.field == Field::kLabel) {
      if (absl::Status s = AppendLabelFilter(f, sql, params); !s.ok()) return s;
      continue;
    }
    absl::StatusOr<Column> col = column(f.field);
    if (!col.ok()) return col.status();
    absl::Status s = AppendFilter(pg, *col, f, sql, params);
    if (!s.ok()) return s;
  }
  std::string order;
  for (const SortKey& k : q.sort) {
    absl::StatusOr<Column> col = column(k.field);
    if (!col.ok()) return col.status();
    if (!order.empty()) order += ", ";
    // NULLs last in both directions and both dialects (they disagree by default).
    if (col->nullable) order += "(" + col->sql + " IS NULL) ASC, ";
    order += col->sql + (k.ascending ? " ASC" : " DESC");
  }
  if (order.empty()) order = default_order;
  sql += " ORDER BY " + order + ", " + tiebreak + " LIMIT ? OFFSET ?";
  const uint32_t limit = q.limit == 0 ? 50 : q.limit;
  params.push_back(int64_t{limit});
  params.push_back(static_cast<int64_t>(q.offset));
  return absl::OkStatus();
}

}  // namespace flyte::runs
