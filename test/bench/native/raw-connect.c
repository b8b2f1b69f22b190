/*
 * The floor for NVMe/TCP attach latency: the kernel interface used directly, with nothing
 * around it. Compiled on the host (cc -O2) and run in the test VM by nvme-bench.guest.
 *
 *   raw-connect connect <option-string> <subsysnqn>
 *     open /dev/nvme-fabrics, one write, one read of "instance=N,cntlid=M", then poll
 *     (2 ms doubling to 50 ms, as the driver does) until the subsystem's namespace head
 *     (or, without native multipath, the controller's namespace) has a /dev node.
 *     Prints: {"instance":N,"connectMs":x,"readyMs":y,"device":"nvmeXnY"}
 *   raw-connect connect <option-string> <subsysnqn> <ballast MiB> <idle threads>
 *     The same from a process shaped like the node plugin: that much memory touched, that
 *     many idle threads, and the open/write/read done on one more thread while the main
 *     thread waits (as libuv's pool does it). Separates what the process's shape costs the
 *     kernel's connect from what the addon's code costs.
 *   raw-connect disconnect <instance>
 *     write "1" to /sys/class/nvme/nvme<instance>/delete_controller.
 *     Prints: {"disconnectMs":x}
 * Times are measured inside the process (CLOCK_MONOTONIC), so spawn cost is excluded.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int read_attr(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  if (n < 0) return -1;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) n--;
  buf[n] = '\0';
  return 0;
}

/* A namespace directory entry: nvme<d>n<d> (not per-path nvme<d>c<d>n<d>). */
static int is_head(const char *name) {
  const char *p = name;
  if (strncmp(p, "nvme", 4) != 0) return 0;
  p += 4;
  if (*p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') p++;
  if (*p++ != 'n') return 0;
  if (*p < '0' || *p > '9') return 0;
  while (*p >= '0' && *p <= '9') p++;
  return *p == '\0';
}

/* First visible namespace with a /dev node under dir; 1 when found. */
static int find_in(const char *dir, char *out, size_t len) {
  DIR *d = opendir(dir);
  if (d == NULL) return 0;
  struct dirent *e;
  int found = 0;
  while (!found && (e = readdir(d)) != NULL) {
    if (!is_head(e->d_name)) continue;
    char dev[300];
    struct stat st;
    snprintf(dev, sizeof dev, "/dev/%s", e->d_name);
    if (stat(dev, &st) == 0) {
      snprintf(out, len, "%s", e->d_name);
      found = 1;
    }
  }
  closedir(d);
  return found;
}

static int find_device(const char *nqn, int instance, char *out, size_t len) {
  DIR *d = opendir("/sys/class/nvme-subsystem");
  if (d != NULL) {
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char path[512], value[512];
      snprintf(path, sizeof path, "/sys/class/nvme-subsystem/%s/subsysnqn", e->d_name);
      if (read_attr(path, value, sizeof value) != 0 || strcmp(value, nqn) != 0) continue;
      snprintf(path, sizeof path, "/sys/class/nvme-subsystem/%s", e->d_name);
      found = find_in(path, out, len);
    }
    closedir(d);
    if (found) return 1;
  }
  char path[128];
  snprintf(path, sizeof path, "/sys/class/nvme/nvme%d", instance);
  return find_in(path, out, len);
}

static int do_connect(const char *options, const char *nqn);

struct connect_job {
  const char *options;
  const char *nqn;
  int rc;
};

static void *connect_thread(void *arg) {
  struct connect_job *job = arg;
  job->rc = do_connect(job->options, job->nqn);
  return NULL;
}

static void *idle_thread(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static int do_shaped_connect(const char *options, const char *nqn, long mib, long threads) {
  size_t bytes = (size_t)mib << 20;
  char *ballast = malloc(bytes > 0 ? bytes : 1);
  if (ballast == NULL) return 1;
  for (size_t i = 0; i < bytes; i += 4096) ballast[i] = (char)i;
  for (long i = 0; i < threads; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, idle_thread, NULL) != 0) return 1;
    pthread_detach(t);
  }
  struct connect_job job = {options, nqn, 1};
  pthread_t worker;
  if (pthread_create(&worker, NULL, connect_thread, &job) != 0) return 1;
  pthread_join(worker, NULL);
  free(ballast);
  return job.rc;
}

static int do_connect(const char *options, const char *nqn) {
  double t0 = now_ms();
  int fd = open("/dev/nvme-fabrics", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "open: %s\n", strerror(errno));
    return 1;
  }
  ssize_t n;
  do n = write(fd, options, strlen(options));
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    fprintf(stderr, "write: %s\n", strerror(errno));
    close(fd);
    return 1;
  }
  char reply[256];
  n = read(fd, reply, sizeof reply - 1);
  close(fd);
  int instance = -1, cntlid = -1;
  if (n <= 0 || (reply[n] = '\0', sscanf(reply, "instance=%d,cntlid=%d", &instance, &cntlid) != 2)) {
    fprintf(stderr, "bad reply\n");
    return 1;
  }
  double t1 = now_ms();
  char device[256];
  useconds_t wait = 2000;
  while (!find_device(nqn, instance, device, sizeof device)) {
    if (now_ms() - t0 > 60000) {
      fprintf(stderr, "device did not appear\n");
      return 1;
    }
    usleep(wait);
    wait = wait * 2 > 50000 ? 50000 : wait * 2;
  }
  printf("{\"instance\":%d,\"connectMs\":%.3f,\"readyMs\":%.3f,\"device\":\"%s\"}\n", instance,
         t1 - t0, now_ms() - t0, device);
  return 0;
}

static int do_disconnect(int instance) {
  char path[128];
  snprintf(path, sizeof path, "/sys/class/nvme/nvme%d/delete_controller", instance);
  double t0 = now_ms();
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "1", 1) != 1) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    if (fd >= 0) close(fd);
    return 1;
  }
  close(fd);
  printf("{\"disconnectMs\":%.3f}\n", now_ms() - t0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "connect") == 0) return do_connect(argv[2], argv[3]);
  if (argc == 6 && strcmp(argv[1], "connect") == 0) {
    return do_shaped_connect(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
  }
  if (argc == 3 && strcmp(argv[1], "disconnect") == 0) return do_disconnect(atoi(argv[2]));
  fprintf(stderr,
          "usage: raw-connect connect <options> <nqn> [<ballast MiB> <idle threads>] |"
          " disconnect <instance>\n");
  return 2;
}
