/* LD_PRELOAD fault injector for the ingest tests. Every read of a file whose path ends with
 * $FAIL_READS_OF fails with EIO (read, pread, pread64 and stdio's fread, the calls GDAL and
 * Rust's std use); every write to a file whose path ends with $FAIL_WRITES_OF fails with EIO once
 * $FAIL_WRITES_AFTER writes to it have succeeded (write, pwrite, pwrite64: SQLite's calls).
 * Opening and everything else work as usual.
 *   cc -shared -fPIC -O2 -Wall -Werror -o fail_io.so fail_io.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FDS 65536
#define MAX_STREAMS 64
#define FAIL_READ 1
#define FAIL_WRITE 2
static unsigned char failing_fd[MAX_FDS];
static FILE *failing_stream[MAX_STREAMS];
static long writes_done;

static int ends_with(const char *path, const char *variable) {
  const char *suffix = getenv(variable);
  size_t n = suffix ? strlen(suffix) : 0, m = path ? strlen(path) : 0;
  return n && m >= n && strcmp(path + m - n, suffix) == 0;
}

static int targeted(const char *path) { return ends_with(path, "FAIL_READS_OF"); }

static int mark_fd(int fd, const char *path) {
  if (fd >= 0 && fd < MAX_FDS)
    failing_fd[fd] = (targeted(path) ? FAIL_READ : 0) | (ends_with(path, "FAIL_WRITES_OF") ? FAIL_WRITE : 0);
  return fd;
}

/* A write to a targeted file fails once FAIL_WRITES_AFTER writes to such files succeeded. */
static int write_fails(int fd) {
  if (fd < 0 || fd >= MAX_FDS || !(failing_fd[fd] & FAIL_WRITE)) return 0;
  const char *after = getenv("FAIL_WRITES_AFTER");
  if (writes_done < (after ? atol(after) : 0)) { writes_done++; return 0; }
  errno = EIO;
  return 1;
}

static FILE *mark_stream(FILE *stream, const char *path) {
  for (int i = 0; stream && i < MAX_STREAMS; i++) {
    if (failing_stream[i] == stream) failing_stream[i] = NULL;
  }
  for (int i = 0; stream && targeted(path) && i < MAX_STREAMS; i++) {
    if (!failing_stream[i]) { failing_stream[i] = stream; break; }
  }
  return stream;
}

static int stream_fails(FILE *stream) {
  for (int i = 0; i < MAX_STREAMS; i++) if (failing_stream[i] == stream) return 1;
  return 0;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))
#define MODE_ARG(flags) mode_t mode = 0; if ((flags) & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }

int open(const char *path, int flags, ...) { MODE_ARG(flags); return mark_fd(REAL(open)(path, flags, mode), path); }
int open64(const char *path, int flags, ...) { MODE_ARG(flags); return mark_fd(REAL(open64)(path, flags, mode), path); }
int openat(int dir, const char *path, int flags, ...) { MODE_ARG(flags); return mark_fd(REAL(openat)(dir, path, flags, mode), path); }
int openat64(int dir, const char *path, int flags, ...) { MODE_ARG(flags); return mark_fd(REAL(openat64)(dir, path, flags, mode), path); }
FILE *fopen(const char *path, const char *mode) { return mark_stream(REAL(fopen)(path, mode), path); }
FILE *fopen64(const char *path, const char *mode) { return mark_stream(REAL(fopen64)(path, mode), path); }

#define READ_FAILS(fd) ((fd) >= 0 && (fd) < MAX_FDS && (failing_fd[fd] & FAIL_READ))

ssize_t read(int fd, void *buf, size_t n) {
  if (READ_FAILS(fd)) { errno = EIO; return -1; }
  return REAL(read)(fd, buf, n);
}
ssize_t pread(int fd, void *buf, size_t n, off_t at) {
  if (READ_FAILS(fd)) { errno = EIO; return -1; }
  return REAL(pread)(fd, buf, n, at);
}
ssize_t pread64(int fd, void *buf, size_t n, off64_t at) {
  if (READ_FAILS(fd)) { errno = EIO; return -1; }
  return REAL(pread64)(fd, buf, n, at);
}
ssize_t write(int fd, const void *buf, size_t n) { return write_fails(fd) ? -1 : REAL(write)(fd, buf, n); }
ssize_t pwrite(int fd, const void *buf, size_t n, off_t at) { return write_fails(fd) ? -1 : REAL(pwrite)(fd, buf, n, at); }
ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t at) {
  return write_fails(fd) ? -1 : REAL(pwrite64)(fd, buf, n, at);
}
size_t fread(void *buf, size_t size, size_t count, FILE *stream) {
  if (stream_fails(stream)) { errno = EIO; return 0; }
  return REAL(fread)(buf, size, count, stream);
}
