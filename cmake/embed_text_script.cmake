# Script mode helper for flyte_embed_text: writes OUT, a .cc returning FILE's text.
file(READ ${FILE} text)
file(WRITE ${OUT}.tmp "#include <string_view>\nnamespace ${NS} {\nstd::string_view ${FN}() {\n  return R\"__text__(${text})__text__\";\n}\n}  // namespace ${NS}\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
