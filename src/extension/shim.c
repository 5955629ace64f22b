/* The entry library of the loadable extension: dist/sen12lite.so.
 *
 * SQLite loads extensions with dlopen(RTLD_NOW | RTLD_GLOBAL), which would put libgdal and its
 * ~110 dependencies (PROJ, libtiff, the system libsqlite3, ...) into the host's global symbol
 * namespace, where libraries the host loads later bind to them instead of their own copies
 * (pyproj's PROJ: a double free at exit). This library links nothing but libc; it loads the
 * implementation, sen12lite.libs/sen12lite_impl.so beside its own real path, with
 * RTLD_LOCAL | RTLD_DEEPBIND (its symbols stay private, and it binds to its own dependencies
 * before the host's) and hands SQLite's init call to it. It exports the two entry names SQLite
 * tries, `sqlite3_extension_init` first (which libgdal also exports: see docs) and the one
 * derived from the file name, so a renamed copy in the same folder loads too.
 *
 * It is compiled against the SQLite headers the implementation is built with (vendor/sqlite-3.31.0
 * of the repository: the first SQLite with SQLITE_DIRECTONLY, which keeps a database's views and
 * triggers from calling the functions that read files), and refuses a host whose SQLite is older
 * before it touches anything else: the implementation's bindings would call routines the host's
 * API table lacks, and abort the host, or register those functions without the protection.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#define EXPORT __attribute__((visibility("default")))
#define IMPLEMENTATION "sen12lite.libs/sen12lite_impl.so"
#define IMPLEMENTATION_ENTRY "sqlite3_senlite_init"

typedef int (*entry_point)(sqlite3 *, char **, const sqlite3_api_routines *);

static int refuse(char **message, const char *what, const char *detail) {
  if (message) *message = sqlite3_mprintf("sen12lite: %s: %s", what, detail);
  return SQLITE_ERROR;
}

/* The implementation's path: the folder of this library's real path (dladdr gives the name the
 * host passed to dlopen, possibly relative or a symlink) + IMPLEMENTATION. */
static int implementation_path(char *out, size_t size) {
  Dl_info self;
  char real[PATH_MAX];
  if (!dladdr((void *)implementation_path, &self) || !self.dli_fname || !realpath(self.dli_fname, real)) return 0;
  char *slash = strrchr(real, '/');
  if (!slash) return 0;
  *slash = '\0';
  return snprintf(out, size, "%s/%s", real, IMPLEMENTATION) < (int)size;
}

/* The SQLite library the implementation serves. Its functions call SQLite through the routines
 * of the library that loaded it (rusqlite keeps them process-wide), so a second SQLite library in
 * the same process (apsw's own beside Python's sqlite3, say) would have its connections' calls run
 * in the first library with the second's handles: that load is refused instead. This library is
 * pinned (RTLD_NODELETE) so that the host closing its last connection, which unloads extensions,
 * cannot make it forget which library that is. */
static const sqlite3_api_routines *served_library;

static void pin_self(void) {
  Dl_info self;
  if (dladdr((void *)pin_self, &self) && self.dli_fname) dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

EXPORT int sqlite3_extension_init(sqlite3 *db, char **message, const sqlite3_api_routines *api) {
  SQLITE_EXTENSION_INIT2(api);
  if (api->libversion_number() < SQLITE_VERSION_NUMBER) {
    if (message)
      *message = sqlite3_mprintf(
          "sen12lite: this SQLite is %s, older than %s, the oldest sen12lite supports; load it into a newer "
          "SQLite (the sen12lite wheel's connect() brings one)",
          api->libversion(), SQLITE_VERSION);
    return SQLITE_ERROR;
  }
  pin_self();
  const sqlite3_api_routines *expected = NULL;
  if (!__atomic_compare_exchange_n(&served_library, &expected, api, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
      expected != api) {
    if (message)
      *message = sqlite3_mprintf(
          "sen12lite: already loaded into another SQLite library in this process (SQLite %s, this one is %s); "
          "one process can use sen12lite with one SQLite library",
          expected->libversion(), api->libversion());
    return SQLITE_ERROR;
  }
  char path[PATH_MAX];
  if (!implementation_path(path, sizeof path)) return refuse(message, "cannot find its own path", "dladdr/realpath failed");
  /* Never closed: the functions it registers live as long as the process may call them. */
  void *implementation = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!implementation) return refuse(message, "cannot load the implementation", dlerror());
  entry_point init = (entry_point)dlsym(implementation, IMPLEMENTATION_ENTRY);
  if (!init) return refuse(message, "the implementation has no entry point", dlerror());
  return init(db, message, api);
}

/* The name SQLite derives from sen12lite.so and libsen12lite.so. */
EXPORT int sqlite3_senlite_init(sqlite3 *db, char **message, const sqlite3_api_routines *api) {
  return sqlite3_extension_init(db, message, api);
}
