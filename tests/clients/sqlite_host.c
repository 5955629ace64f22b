/* A host program over any SQLite amalgamation (tests/python/test_clients.py compiles it with the
 * SQLite releases of several years): opens a catalog, loads the extension, and runs the canonical
 * check, one statement a line of the queries file, printing each first value (or `error: ...`)
 * on a line of its own. Exit 3 when the extension does not load, with SQLite's message. */
#include <stdio.h>
#include <string.h>
#include "sqlite3.h"

static void run(sqlite3 *db, const char *sql) {
  sqlite3_stmt *statement = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &statement, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_step(statement);
  if (rc == SQLITE_ROW) {
    const unsigned char *text = sqlite3_column_text(statement, 0);
    printf("%s\n", text ? (const char *)text : "NULL");
  } else {
    printf("error: %s\n", sqlite3_errmsg(db));
  }
  sqlite3_finalize(statement);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s CATALOG EXTENSION QUERIES\n", argv[0]);
    return 2;
  }
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    fprintf(stderr, "cannot open %s: %s\n", argv[1], sqlite3_errmsg(db));
    return 2;
  }
  char *message = NULL;
  sqlite3_enable_load_extension(db, 1);
  if (sqlite3_load_extension(db, argv[2], NULL, &message) != SQLITE_OK) {
    printf("load error: %s\n", message ? message : "(no message)");
    return 3;
  }
  FILE *queries = fopen(argv[3], "r");
  if (!queries) return 2;
  char line[4096];
  while (fgets(line, sizeof line, queries)) {
    if (strspn(line, " \t\n") == strlen(line)) continue;
    run(db, line);
  }
  fclose(queries);
  sqlite3_close(db);
  return 0;
}
