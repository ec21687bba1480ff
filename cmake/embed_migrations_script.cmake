# Script mode helper for flyte_embed_migrations: writes OUT from FILES.
set(body "#include <vector>\n#include \"flyte/db/migration.h\"\nnamespace ${NS} {\nconst std::vector<flyte::db::Migration>& ${FN}() {\n  static const std::vector<flyte::db::Migration> kAll = {\n")
foreach(f ${FILES})
  get_filename_component(name ${f} NAME_WE)
  string(REGEX MATCH "^[0-9]+" ver ${name})
  # "0008" as a C++ literal is a bad octal number: drop the leading zeros (keeping one digit).
  string(REGEX REPLACE "^0+([0-9])" "\\1" ver "${ver}")
  file(READ ${f} sql)
  string(APPEND body "    {${ver}, \"${name}\", R\"__sql__(${sql})__sql__\"},\n")
endforeach()
string(APPEND body "  };\n  return kAll;\n}\n}  // namespace ${NS}\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
