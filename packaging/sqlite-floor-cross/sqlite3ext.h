/* SQLite 3.31.0's sqlite3ext.h (vendor/sqlite-3.31.0, the extension's floor) as bindgen reads it
   for the release wheels' extension (packaging/release_wheel.py: this folder is its
   SQLITE3_INCLUDE_DIR). When cross compiling, libsqlite3-sys leaves the type `va_list` out of its
   bindings but keeps the fields of sqlite3_api_routines that take one (vmprintf, xvsnprintf,
   str_vappendf), which then do not compile. Under another name the type is kept. The fields stay
   function pointers, so the struct is the same, and those three functions are neither bound by
   libsqlite3-sys nor called by us. */
#include <stdarg.h>
typedef void *sen12lite_va_list;
#define va_list sen12lite_va_list
#include "../../vendor/sqlite-3.31.0/sqlite3ext.h"
