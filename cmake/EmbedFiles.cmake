# flyte_embed_migrations(TARGET tgt NAMESPACE ns DIR dir)
# Generates a .cc defining `const std::vector<flyte::db::Migration>& ns::Migrations()` from DIR/NNNN_name.sql
# files (sorted by name), so binaries carry their schema and need no files at run time.
function(flyte_embed_migrations)
  cmake_parse_arguments(A "" "TARGET;NAMESPACE;DIR;FUNCTION" "" ${ARGN})
  file(GLOB sqls CONFIGURE_DEPENDS ${A_DIR}/*.sql)
  list(SORT sqls)
  if(NOT A_FUNCTION)
    set(A_FUNCTION Migrations)
  endif()
  string(MAKE_C_IDENTIFIER "${A_NAMESPACE}_${A_FUNCTION}" id)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${id}.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${A_NAMESPACE} -DFN=${A_FUNCTION} "-DFILES=${sqls}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_migrations_script.cmake
    DEPENDS ${sqls} ${PROJECT_SOURCE_DIR}/cmake/embed_migrations_script.cmake
    VERBATIM)
  target_sources(${A_TARGET} PRIVATE ${out})
endfunction()

# flyte_embed_text(TARGET tgt NAMESPACE ns FUNCTION fn FILE file)
# Generates a .cc defining `std::string_view ns::fn()` returning FILE's text, so a binary carries a helper script
# (e.g. the executor's Python zygote) and needs no file installed next to it.
function(flyte_embed_text)
  cmake_parse_arguments(A "" "TARGET;NAMESPACE;FUNCTION;FILE" "" ${ARGN})
  string(MAKE_C_IDENTIFIER "${A_NAMESPACE}_${A_FUNCTION}" id)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/embedded_${id}.cc)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNS=${A_NAMESPACE} -DFN=${A_FUNCTION} -DFILE=${A_FILE}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_text_script.cmake
    DEPENDS ${A_FILE} ${PROJECT_SOURCE_DIR}/cmake/embed_text_script.cmake
    VERBATIM)
  target_sources(${A_TARGET} PRIVATE ${out})
endfunction()
