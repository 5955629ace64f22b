/* Linked into the zig build of libsen12lite_gdal.so (packaging/build_gdal.py). GCC's crtbeginS.o
   runs a library's exit handlers (its C++ statics' destructors, which GDAL, PROJ and libc++
   register with __cxa_atexit under the library's __dso_handle) when the library is unloaded; zig
   links no crtbeginS.o, so a library unloaded before the process exits (a host whose
   sqlite3_load_extension fails, and closes it) left handlers into unmapped code, and the host
   crashed in exit(). The same call, from the library's destructor. */
#ifdef __cplusplus
extern "C" {  /* zig's c++ driver, which links the library, compiles this file as C++ */
#endif
extern void *__dso_handle;
extern void __cxa_finalize(void *dso);
#ifdef __cplusplus
}
#endif

__attribute__((destructor)) static void run_this_librarys_exit_handlers(void) {
    __cxa_finalize(&__dso_handle);
}
