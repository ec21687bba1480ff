# Small helpers so every library and test is declared the same way.

if(NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(CCACHE_PROGRAM ccache)
  if(CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  endif()
endif()

add_library(flyte_warnings INTERFACE)
target_compile_options(flyte_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

# flyte_cc_library(NAME x SRCS a.cc [PUBLIC_DEPS ...] [PRIVATE_DEPS ...] [INCLUDE_DIR dir])
# Makes STATIC target flyte_<x> with alias flyte::<x>; `include/` (or INCLUDE_DIR) is its public header root.
function(flyte_cc_library)
  cmake_parse_arguments(A "" "NAME;INCLUDE_DIR" "SRCS;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(flyte_${A_NAME} STATIC ${A_SRCS})
  add_library(flyte::${A_NAME} ALIAS flyte_${A_NAME})
  if(NOT A_INCLUDE_DIR)
    set(A_INCLUDE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/include)
  endif()
  target_include_directories(flyte_${A_NAME} PUBLIC ${A_INCLUDE_DIR})
  target_link_libraries(flyte_${A_NAME} PUBLIC ${A_PUBLIC_DEPS} PRIVATE ${A_PRIVATE_DEPS} flyte_warnings)
endfunction()

# flyte_cc_test(NAME x SRCS a.cc DEPS ... [LABELS unit;sqlite])
# One Catch2 binary per call, registered with ctest per test case, labelled for `ctest -L`.
function(flyte_cc_test)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${A_NAME} ${A_SRCS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} Catch2::Catch2WithMain flyte_warnings)
  set_target_properties(${A_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  # Labels are set by a ctest include file of our own, run after Catch's (which defines <target>_TESTS, the
  # discovered test names): Catch's PROPERTIES pass-through splits a list value, which kept only the first label.
  catch_discover_tests(${A_NAME} TEST_LIST ${A_NAME}_TESTS)
  set(labels_file "${CMAKE_CURRENT_BINARY_DIR}/${A_NAME}_labels.cmake")
  file(WRITE "${labels_file}"
       "if(${A_NAME}_TESTS)\n  set_tests_properties(\${${A_NAME}_TESTS} PROPERTIES LABELS \"${A_LABELS}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_file}")
endfunction()
