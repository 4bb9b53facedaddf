/* loadgen: owns `innsync-bench`, the load generator of issue 2 ("Performance").
 *
 * It sets up a fresh HQ in a temporary directory with the real programs
 * (innsync-hq init / site add / token / run, innsync-branch enroll), then
 * plays N branch agents from one thread of one process: N DEALER sockets,
 * CURVE with each agent's own keys, speaking the sync protocol exactly as
 * branch/agent.c does. Records are built before timing exactly as
 * branch/branch_store.c outbox_append builds them (RecordBody serialised
 * once, SHA-256 and Ed25519 signature per record); the batch Manifest is
 * built and signed at send time, inside the measured phase, as the agent
 * does.
 *
 * Measured phase: from the first RecordBatch sent (all agents welcomed) to
 * the Ack that covers the last record. What it reports:
 *   - durable acknowledged records/s: records covered by Acks / that time;
 *   - ack latency per record: Ack receipt - send time of its batch;
 *   - HQ CPU (utime + stime of the innsync-hq process, all threads, from
 *     /proc/PID/stat) over the same phase, per record;
 *   - after HQ stops: SELECT count(*) FROM records in DIR/hq.db == N x R.
 *
 * Two ways to load HQ:
 *   - closed loop (default): each agent keeps up to --window records in
 *     flight beyond its last Ack, in batches of --batch. This measures the
 *     maximum throughput; its latency is queueing by construction (Little's
 *     law: latency ~ records in flight / throughput).
 *   - paced (--rate R): the agents together offer R records/s, each agent
 *     one batch every batch x N / R seconds, phases staggered. This
 *     measures the latency at a given load.
 *
 * Invariants kept here: a record's latency is counted once, when the first
 * Ack with upto >= its seq arrives; every loop is bounded and the whole run
 * has a deadline (--timeout); the HQ child is always stopped on the way out. */
/* nftw() is XSI */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "batch.h"
#include "crypto.h"
#include "util.h"
#include "wire.h"

/*---- Limits and defaults ---------------------------------------------------*/

#define BENCH_MAX_AGENTS 2000
#define BENCH_MAX_RECORDS 100000	   /* per agent */
#define BENCH_MAX_TOTAL (10 * 1000 * 1000) /* agents x records */
#define BENCH_SETUP_PARALLEL 4		   /* concurrent site add / token / enroll */
#define BENCH_JOB_TIMEOUT_MS 60000	   /* one setup command */
#define BENCH_HQ_READY_MS 15000
#define BENCH_WELCOME_MS 60000 /* all agents welcomed */
#define BENCH_HQ_STOP_MS 15000
#define BENCH_DRAIN_PER_SOCKET 64 /* messages read per socket per turn */
#define BENCH_POLL_MAX_MS 50
#define BENCH_PROGRESS_MS 5000
#define BENCH_JOB_OUTPUT 4096
#define BENCH_PATH 4096

struct bench_config {
	unsigned agents;
	unsigned records; /* per agent */
	unsigned batch;
	unsigned window;
	double rate;	    /* records/s offered by all agents; 0: closed loop */
	unsigned timeout_s; /* global deadline of the measured phase */
	bool keep, json, quiet;
	char hq_path[BENCH_PATH];
	char branch_path[BENCH_PATH];
	const char *base_dir; /* where the temporary directory is made */
	const char *perf_out; /* perf record -g -o FILE on HQ, or NULL */
};

/*---- Small helpers ---------------------------------------------------------*/

static volatile sig_atomic_t bench_stop_requested;

static void on_stop_signal(int signo)
{
	(void)signo;
	bench_stop_requested = 1;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void note(const struct bench_config *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Progress on stderr (not with --quiet). */
static void note(const struct bench_config *cfg, const char *fmt, ...)
{
	if (cfg->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("innsync-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("innsync-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* xorshift64*: deterministic figures per agent. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(2685821657736338717);
}

static int64_t rng_range(uint64_t *state, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(state) % (uint64_t)(hi - lo + 1));
}

/* A free TCP port on 127.0.0.1 (bound then released). 0 on failure. */
static unsigned free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof addr;
	unsigned port = 0;
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
		port = ntohs(addr.sin_port);
	close(fd);
	return port;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}

static const char *fs_name(const char *dir)
{
	struct statfs fs;
	if (statfs(dir, &fs) != 0)
		return "unknown";
	switch ((unsigned long)fs.f_type) {
	case 0xEF53UL:
		return "ext4";
	case 0x58465342UL:
		return "xfs";
	case 0x9123683EUL:
		return "btrfs";
	case 0x01021994UL:
		return "tmpfs";
	case 0x794C7630UL:
		return "overlayfs";
	default:
		return "other";
	}
}

/*---- Child processes -------------------------------------------------------*/

/* One setup command: argv built in args, output (stdout + stderr) captured. */
#define JOB_MAX_ARGS 16
struct job {
	char args[JOB_MAX_ARGS][BENCH_PATH / 4];
	char *argv[JOB_MAX_ARGS + 1];
	int argc;
	pid_t pid;
	int fd; /* read end of the output pipe, -1 when closed */
	char out[BENCH_JOB_OUTPUT];
	size_t out_len;
	int status; /* exit status, or -1 */
	bool done;
};

static int job_add(struct job *job, const char *arg)
{
	if (job->argc >= JOB_MAX_ARGS ||
	    copy_string(job->args[job->argc], sizeof job->args[0], arg) != 0)
		return -1;
	job->argv[job->argc] = job->args[job->argc];
	job->argc++;
	job->argv[job->argc] = NULL;
	return 0;
}

/* Execs argv with stdin from /dev/null and stdout+stderr to out_fd. Never
 * returns in the child. */
static pid_t spawn(char *const argv[], int out_fd)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* never outlive the bench, even when it is killed */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	int null_fd = open("/dev/null", O_RDONLY);
	if (null_fd >= 0)
		dup2(null_fd, STDIN_FILENO);
	dup2(out_fd, STDOUT_FILENO);
	dup2(out_fd, STDERR_FILENO);
	execvp(argv[0], argv);
	fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int job_start(struct job *job)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	job->pid = spawn(job->argv, fds[1]);
	close(fds[1]);
	if (job->pid < 0) {
		close(fds[0]);
		return -1;
	}
	job->fd = fds[0];
	job->out_len = 0;
	job->status = -1;
	job->done = false;
	return 0;
}

/* Reads what the job wrote; at EOF reaps it. */
static void job_read(struct job *job)
{
	char buf[1024];
	ssize_t n = read(job->fd, buf, sizeof buf);
	if (n > 0) {
		size_t room = sizeof job->out - 1 - job->out_len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(job->out + job->out_len, buf, take);
		job->out_len += take;
		job->out[job->out_len] = '\0';
		return;
	}
	if (n < 0 && errno == EINTR)
		return;
	close(job->fd);
	job->fd = -1;
	int status = 0;
	if (waitpid(job->pid, &status, 0) == job->pid && WIFEXITED(status))
		job->status = WEXITSTATUS(status);
	job->done = true;
}

/* Runs jobs, at most `parallel` at a time. 0 if every job exited 0; -1
 * otherwise (the first failure's output is printed). */
static int run_jobs(struct job *jobs, size_t count, size_t parallel)
{
	size_t next = 0, finished = 0;
	int64_t deadline =
	    mono_ns() + (int64_t)BENCH_JOB_TIMEOUT_MS * 1000000 * (int64_t)(count / parallel + 1);
	int rc = 0;
	struct pollfd *fds = calloc(parallel, sizeof *fds);
	size_t *which = calloc(parallel, sizeof *which);
	if (fds == NULL || which == NULL) {
		free(fds);
		free(which);
		return -1;
	}
	while (finished < count) {
		size_t running = 0;
		for (size_t i = 0; i < next; i++)
			running += !jobs[i].done;
		while (rc == 0 && running < parallel && next < count && !bench_stop_requested) {
			if (job_start(&jobs[next]) != 0) {
				fail("cannot start %s: %s", jobs[next].argv[0], strerror(errno));
				rc = -1;
				break;
			}
			next++;
			running++;
		}
		if (running == 0)
			break;
		size_t n = 0;
		for (size_t i = 0; i < next && n < parallel; i++) {
			if (!jobs[i].done) {
				fds[n].fd = jobs[i].fd;
				fds[n].events = POLLIN;
				fds[n].revents = 0;
				which[n++] = i;
			}
		}
		if (poll(fds, n, 200) < 0 && errno != EINTR)
			break;
		for (size_t k = 0; k < n; k++) {
			if (fds[k].revents == 0)
				continue;
			struct job *job = &jobs[which[k]];
			job_read(job);
			if (!job->done)
				continue;
			finished++;
			if (job->status != 0 && rc == 0) {
				fail("%s %s failed (exit %d): %s", job->argv[0], job->argv[1],
				     job->status, job->out);
				rc = -1;
			}
		}
		if (mono_ns() > deadline || bench_stop_requested) {
			fail("setup commands did not finish in time");
			rc = -1;
			break;
		}
	}
	for (size_t i = 0; i < next; i++) {
		if (!jobs[i].done) {
			kill(jobs[i].pid, SIGKILL);
			waitpid(jobs[i].pid, NULL, 0);
			close(jobs[i].fd);
			jobs[i].done = true;
			rc = -1;
		}
	}
	if (next < count)
		rc = -1;
	free(fds);
	free(which);
	return rc;
}

/* CPU seconds (utime + stime, all threads) of a process. -1 if unknown. */
static double process_cpu_seconds(pid_t pid)
{
	char path[64], text[2048];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return -1;
	size_t n = fread(text, 1, sizeof text - 1, file);
	fclose(file);
	text[n] = '\0';
	/* Field 2 (comm) may hold spaces: parse after its closing ')'. */
	char *p = strrchr(text, ')');
	if (p == NULL)
		return -1;
	p++;
	unsigned long long utime = 0, stime = 0;
	/* after ")" come fields 3.. ; utime is field 14, stime 15 */
	for (int field = 3; field <= 15 && *p != '\0'; field++) {
		while (*p == ' ')
			p++;
		char *end = NULL;
		unsigned long long value = strtoull(p, &end, 10);
		if (field == 14)
			utime = value;
		if (field == 15)
			stime = value;
		p = end != NULL && end != p ? end : p + strcspn(p, " ");
	}
	long ticks = sysconf(_SC_CLK_TCK);
	return ticks > 0 ? (double)(utime + stime) / (double)ticks : -1;
}

/* CPU seconds all processors spent busy since boot (/proc/stat "cpu"
 * line: user nice system idle iowait irq softirq steal), and how many
 * processors. -1 if unknown. */
static double machine_busy_seconds(void)
{
	FILE *file = fopen("/proc/stat", "r");
	if (file == NULL)
		return -1;
	unsigned long long v[8] = {0};
	int n = fscanf(file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		       &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(file);
	long ticks = sysconf(_SC_CLK_TCK);
	if (n < 8 || ticks <= 0)
		return -1;
	return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)ticks;
}

static double load_average(void)
{
	double load = -1;
	FILE *file = fopen("/proc/loadavg", "r");
	if (file != NULL) {
		if (fscanf(file, "%lf", &load) != 1)
			load = -1;
		fclose(file);
	}
	return load;
}

static double self_cpu_seconds(void)
{
	struct rusage usage;
	if (getrusage(RUSAGE_SELF, &usage) != 0)
		return 0;
	return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
	       (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/*---- The HQ under test -----------------------------------------------------*/

struct hq_proc {
	char dir[BENCH_PATH]; /* the temporary directory, also HQ's --data */
	char key[CURVE_KEY_Z85_LEN + 1];
	char sync_endpoint[64];
	char enroll_endpoint[64];
	pid_t pid;	/* innsync-hq run, or 0 */
	pid_t perf_pid; /* perf record, or 0 */
};

static int find_line_value(const char *text, const char *prefix, char *out, size_t outlen)
{
	const char *p = strstr(text, prefix);
	if (p == NULL)
		return -1;
	p += strlen(prefix);
	size_t len = strcspn(p, "\r\n");
	if (len + 1 > outlen)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

static int hq_init(const struct bench_config *cfg, struct hq_proc *hq)
{
	struct job job;
	memset(&job, 0, sizeof job);
	if (job_add(&job, cfg->hq_path) != 0 || job_add(&job, "init") != 0 ||
	    job_add(&job, "--data") != 0 || job_add(&job, hq->dir) != 0)
		return -1;
	if (run_jobs(&job, 1, 1) != 0)
		return -1;
	if (find_line_value(job.out, "hq-key: ", hq->key, sizeof hq->key) != 0 ||
	    curve_key_valid(hq->key) != 0) {
		fail("innsync-hq init printed no hq-key line: %s", job.out);
		return -1;
	}
	return 0;
}

static const char *const site_kinds[] = {"member", "franchise", "managed"};
static const char *const site_cities[] = {"Shanghai", "Hangzhou", "Chengdu", "Xi'an",
					  "Shenzhen", "Wuhan",	  "Nanjing", "Qingdao"};

static void site_id(unsigned i, char *out, size_t outlen)
{
	snprintf(out, outlen, "BENCH%04u", i + 1);
}

static unsigned site_rooms(unsigned i)
{
	return 80 + (i * 37) % 320;
}

/* site add and token for every site. tokens[i] receives site i's token. */
static int hq_add_sites(const struct bench_config *cfg, const struct hq_proc *hq,
			char (*tokens)[128])
{
	struct job *jobs = calloc(cfg->agents, sizeof *jobs);
	if (jobs == NULL)
		return -1;
	int rc = 0;
	for (unsigned i = 0; i < cfg->agents && rc == 0; i++) {
		char id[32], name[64], rooms[16];
		site_id(i, id, sizeof id);
		snprintf(name, sizeof name, "Bench Hotel %u", i + 1);
		snprintf(rooms, sizeof rooms, "%u", site_rooms(i));
		struct job *job = &jobs[i];
		const char *args[] = {cfg->hq_path,
				      "site",
				      "add",
				      "--data",
				      hq->dir,
				      "--id",
				      id,
				      "--name",
				      name,
				      "--kind",
				      site_kinds[i % 3],
				      "--city",
				      site_cities[i % 8],
				      "--rooms",
				      rooms};
		for (size_t a = 0; a < sizeof args / sizeof args[0] && rc == 0; a++)
			rc = job_add(job, args[a]);
	}
	if (rc == 0)
		rc = run_jobs(jobs, cfg->agents, BENCH_SETUP_PARALLEL);
	memset(jobs, 0, cfg->agents * sizeof *jobs);
	for (unsigned i = 0; i < cfg->agents && rc == 0; i++) {
		char id[32];
		site_id(i, id, sizeof id);
		const char *args[] = {cfg->hq_path, "token", "--data", hq->dir, "--site", id};
		for (size_t a = 0; a < sizeof args / sizeof args[0] && rc == 0; a++)
			rc = job_add(&jobs[i], args[a]);
	}
	if (rc == 0)
		rc = run_jobs(jobs, cfg->agents, BENCH_SETUP_PARALLEL);
	for (unsigned i = 0; i < cfg->agents && rc == 0; i++) {
		if (find_line_value(jobs[i].out, "token: ", tokens[i], sizeof tokens[0]) != 0) {
			fail("innsync-hq token printed no token line: %s", jobs[i].out);
			rc = -1;
		}
	}
	free(jobs);
	return rc;
}

static int hq_start(const struct bench_config *cfg, struct hq_proc *hq)
{
	unsigned sync_port = free_port(), enroll_port = free_port();
	if (sync_port == 0 || enroll_port == 0 || sync_port == enroll_port) {
		fail("cannot find two free loopback ports");
		return -1;
	}
	snprintf(hq->sync_endpoint, sizeof hq->sync_endpoint, "tcp://127.0.0.1:%u", sync_port);
	snprintf(hq->enroll_endpoint, sizeof hq->enroll_endpoint, "tcp://127.0.0.1:%u",
		 enroll_port);
	char log_path[BENCH_PATH];
	if (path_join(log_path, sizeof log_path, hq->dir, "hq.log") != 0)
		return -1;
	int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (log_fd < 0) {
		fail("cannot create %s: %s", log_path, strerror(errno));
		return -1;
	}
	char *argv[] = {(char *)cfg->hq_path,
			"run",
			"--data",
			hq->dir,
			"--listen",
			hq->sync_endpoint,
			"--enroll",
			hq->enroll_endpoint,
			NULL};
	hq->pid = spawn(argv, log_fd);
	close(log_fd);
	if (hq->pid < 0) {
		hq->pid = 0;
		fail("cannot start %s: %s", cfg->hq_path, strerror(errno));
		return -1;
	}
	/* Ready when the daemon logs "ready:" (after binding both endpoints). */
	int64_t deadline = mono_ns() + (int64_t)BENCH_HQ_READY_MS * 1000000;
	while (mono_ns() < deadline && !bench_stop_requested) {
		char *text = NULL;
		size_t len = 0;
		char err[256];
		if (read_file_bounded(log_path, 1 << 20, &text, &len, err, sizeof err) == 0) {
			bool ready = strstr(text, "ready:") != NULL;
			free(text);
			if (ready)
				return 0;
		}
		int status = 0;
		if (waitpid(hq->pid, &status, WNOHANG) == hq->pid) {
			hq->pid = 0;
			fail("innsync-hq run exited at start; see %s", log_path);
			return -1;
		}
		usleep(20000);
	}
	fail("innsync-hq run did not become ready within %d s; see %s", BENCH_HQ_READY_MS / 1000,
	     log_path);
	return -1;
}

/* SIGTERM, then SIGKILL after BENCH_HQ_STOP_MS. */
static void stop_child(pid_t *pid_p, int signo)
{
	if (*pid_p <= 0)
		return;
	kill(*pid_p, signo);
	int64_t deadline = mono_ns() + (int64_t)BENCH_HQ_STOP_MS * 1000000;
	while (mono_ns() < deadline) {
		if (waitpid(*pid_p, NULL, WNOHANG) == *pid_p) {
			*pid_p = 0;
			return;
		}
		usleep(20000);
	}
	kill(*pid_p, SIGKILL);
	waitpid(*pid_p, NULL, 0);
	*pid_p = 0;
}

static void perf_start(const struct bench_config *cfg, struct hq_proc *hq)
{
	if (cfg->perf_out == NULL || hq->pid <= 0)
		return;
	char pid_text[16];
	snprintf(pid_text, sizeof pid_text, "%d", (int)hq->pid);
	/* DWARF unwinding: Release builds and Debian's libraries have no frame
	 * pointers, so plain -g loses most callers. */
	char *argv[] = {"perf", "record", "--call-graph",	 "dwarf,16384", "-F",	  "999",
			"-q",	"-o",	  (char *)cfg->perf_out, "-p",		pid_text, NULL};
	int null_fd = open("/dev/null", O_WRONLY);
	hq->perf_pid = spawn(argv, null_fd >= 0 ? null_fd : STDERR_FILENO);
	if (null_fd >= 0)
		close(null_fd);
	if (hq->perf_pid < 0)
		hq->perf_pid = 0;
	usleep(300000); /* let perf attach before the measured phase */
}

/*---- Simulated agents ------------------------------------------------------*/

/* One record of the outbox, as outbox_append stores it. */
struct bench_record {
	uint8_t *body; /* owned: serialised RecordBody */
	size_t body_len;
	uint8_t signature[SIGNATURE_LEN];
	uint8_t sha256[SHA256_LEN];
};

/* A batch sent and not yet covered by an Ack. */
struct in_flight {
	uint64_t first_seq, last_seq;
	int64_t sent_ns;
};

struct bench_agent {
	char data_dir[BENCH_PATH];
	char site[32];
	char id[64]; /* agent id from branch.db */
	struct curve_keypair curve;
	signing_key *key;	      /* owned */
	void *socket;		      /* owned, DEALER */
	struct bench_record *records; /* owned, records[seq - 1] */
	uint64_t head;		      /* records in the outbox (= R) */
	uint64_t sent_upto, acked;
	struct in_flight *flight; /* owned ring */
	size_t flight_cap, flight_first, flight_count;
	bool welcomed;
	uint64_t session;
	uint32_t heartbeat_ms;
	int64_t last_hello_ns;
	int64_t next_send_ns; /* paced mode: when the next batch is due */
	uint64_t down_cursor; /* highest downstream seq "committed" */
	bool down_ack_due;
};

struct bench_stats {
	float *latency_ms; /* owned, one per acknowledged record */
	size_t n_latency, cap_latency;
	uint64_t acked_records;
	uint64_t batches_sent, send_eagain;
	uint64_t refusals, errors, down_items, down_acks, welcomes;
	int64_t sign_ns;     /* manifest packing + signing + send, agent side */
	int64_t late_ns_max; /* paced mode: how late a batch left */
	uint64_t late_batches;
	char first_problem[256];
	int64_t first_send_ns, last_ack_ns;
};

static int agent_load_identity(struct bench_agent *agent)
{
	char path[BENCH_PATH], keys[BENCH_PATH];
	if (path_join(path, sizeof path, agent->data_dir, "branch.db") != 0 ||
	    path_join(keys, sizeof keys, agent->data_dir, "keys") != 0)
		return -1;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fail("cannot open %s", path);
		sqlite3_close(db);
		return -1;
	}
	sqlite3_stmt *stmt = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(db, "SELECT value FROM config WHERE key = 'agent_id'", -1, &stmt,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		rc = copy_string(agent->id, sizeof agent->id,
				 (const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	if (rc != 0) {
		fail("%s holds no agent_id", path);
		return -1;
	}
	char sign_path[BENCH_PATH];
	if (path_join(sign_path, sizeof sign_path, keys, "sign.pem") != 0 ||
	    curve_keypair_load(keys, &agent->curve) != 0 ||
	    signing_key_load(sign_path, &agent->key) != 0) {
		fail("cannot read the keys in %s", keys);
		return -1;
	}
	return 0;
}

static int enroll_agents(const struct bench_config *cfg, const struct hq_proc *hq,
			 struct bench_agent *agents, char (*tokens)[128])
{
	struct job *jobs = calloc(cfg->agents, sizeof *jobs);
	if (jobs == NULL)
		return -1;
	int rc = 0;
	for (unsigned i = 0; i < cfg->agents && rc == 0; i++) {
		const char *args[] = {
		    cfg->branch_path,	 "enroll",   "--data", agents[i].data_dir, "--hq",
		    hq->enroll_endpoint, "--hq-key", hq->key,  "--token",	   tokens[i]};
		for (size_t a = 0; a < sizeof args / sizeof args[0] && rc == 0; a++)
			rc = job_add(&jobs[i], args[a]);
	}
	if (rc == 0)
		rc = run_jobs(jobs, cfg->agents, BENCH_SETUP_PARALLEL);
	free(jobs);
	for (unsigned i = 0; i < cfg->agents && rc == 0; i++)
		rc = agent_load_identity(&agents[i]);
	return rc;
}

/* Splits total into n parts by random weights; the last takes the remainder
 * so that the parts add up exactly. */
static void split(uint64_t *rng, int64_t total, size_t n, int64_t *parts)
{
	int64_t weights[8], sum = 0;
	for (size_t i = 0; i < n; i++) {
		weights[i] = rng_range(rng, 10, 100);
		sum += weights[i];
	}
	int64_t used = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		parts[i] = total * weights[i] / sum;
		used += parts[i];
	}
	parts[n - 1] = total - used;
}

static const char *const segment_names[] = {"ota", "member", "corporate", "walk_in"};
static const char *const channel_names[] = {"brand_app", "ota", "phone"};

/* Builds revision `revision` of the agent's report for the period, packed
 * and signed as outbox_append does. */
static int make_record(struct bench_agent *agent, unsigned index, uint64_t seq, unsigned revision,
		       uint64_t *rng, struct bench_record *out)
{
	Innsync__SalesReport report = INNSYNC__SALES_REPORT__INIT;
	int64_t rooms = site_rooms(index);
	report.period = "2026-10";
	report.currency = "CNY";
	report.rooms_available = rooms * 31;
	report.rooms_sold = report.rooms_available * rng_range(rng, 55, 95) / 100;
	int64_t adr_cents = rng_range(rng, 25000, 90000);
	report.room_revenue_cents = report.rooms_sold * adr_cents;

	Innsync__Amount other[2], costs[2];
	Innsync__Amount *other_p[2], *costs_p[2];
	const char *other_names[] = {"fnb", "meeting"};
	const char *cost_names[] = {"labour", "energy"};
	for (size_t i = 0; i < 2; i++) {
		innsync__amount__init(&other[i]);
		other[i].name = (char *)other_names[i];
		other[i].cents = rng_range(rng, 100000, 9000000);
		other_p[i] = &other[i];
		innsync__amount__init(&costs[i]);
		costs[i].name = (char *)cost_names[i];
		costs[i].cents = rng_range(rng, 1000000, 20000000);
		costs_p[i] = &costs[i];
	}
	report.other_revenue = other_p;
	report.n_other_revenue = 2;
	report.costs = costs_p;
	report.n_costs = 2;

	Innsync__MixLine segments[4], channels[3];
	Innsync__MixLine *segments_p[4], *channels_p[3];
	int64_t nights[4], revenue[4];
	split(rng, report.rooms_sold, 4, nights);
	split(rng, report.room_revenue_cents, 4, revenue);
	for (size_t i = 0; i < 4; i++) {
		innsync__mix_line__init(&segments[i]);
		segments[i].name = (char *)segment_names[i];
		segments[i].room_nights = nights[i];
		segments[i].revenue_cents = revenue[i];
		segments_p[i] = &segments[i];
	}
	split(rng, report.rooms_sold, 3, nights);
	split(rng, report.room_revenue_cents, 3, revenue);
	for (size_t i = 0; i < 3; i++) {
		innsync__mix_line__init(&channels[i]);
		channels[i].name = (char *)channel_names[i];
		channels[i].room_nights = nights[i];
		channels[i].revenue_cents = revenue[i];
		channels_p[i] = &channels[i];
	}
	report.segments = segments_p;
	report.n_segments = 4;
	report.channels = channels_p;
	report.n_channels = 3;
	char analysis[256];
	snprintf(analysis, sizeof analysis,
		 "Occupancy %lld%%, ADR %lld.%02lld. Golden Week demand strong; OTA share down as "
		 "member bookings grew. Revision %u.",
		 (long long)(report.rooms_sold * 100 / report.rooms_available),
		 (long long)(adr_cents / 100), (long long)(adr_cents % 100), revision);
	report.analysis = analysis;

	char record_id[96], author[64], reason[32];
	snprintf(record_id, sizeof record_id, "sales/%s/%s", agent->site, report.period);
	snprintf(author, sizeof author, "bench manager %s", agent->site);
	if (revision > 1)
		snprintf(reason, sizeof reason, "bench %u", revision);
	else
		reason[0] = '\0';
	Innsync__RecordBody body = INNSYNC__RECORD_BODY__INIT;
	body.origin_agent = agent->id;
	body.origin_seq = seq;
	body.record_id = record_id;
	body.kind = INNSYNC__RECORD_KIND__RECORD_KIND_SALES_REPORT;
	body.site = agent->site;
	body.revision = revision;
	body.author = author;
	body.created_at_ms = now_ms();
	body.reason = reason;
	body.payload_case = INNSYNC__RECORD_BODY__PAYLOAD_SALES_REPORT;
	body.sales_report = &report;
	if (wire_pack(&body.base, &out->body, &out->body_len) != 0)
		return -1;
	sha256_digest(out->body, out->body_len, out->sha256);
	return signing_key_sign(agent->key, out->body, out->body_len, out->signature);
}

/* Pre-building is outside the measured phase; it signs every record once
 * (about 12,000 Ed25519 signatures/s per core), so it uses a worker per
 * core, each with its own agents (keys are never shared between threads). */
struct pregen_work {
	const struct bench_config *cfg;
	struct bench_agent *agents;
	unsigned first, step; /* agents first, first+step, ... */
	size_t body_bytes;    /* OUT */
	int rc;		      /* OUT */
};

static void *pregen_worker(void *arg)
{
	struct pregen_work *work = arg;
	const struct bench_config *cfg = work->cfg;
	work->rc = 0;
	for (unsigned i = work->first; i < cfg->agents && work->rc == 0; i += work->step) {
		struct bench_agent *agent = &work->agents[i];
		agent->records = calloc(cfg->records, sizeof *agent->records);
		if (agent->records == NULL) {
			work->rc = -1;
			break;
		}
		uint64_t rng = UINT64_C(0x9E3779B97F4A7C15) ^ ((uint64_t)(i + 1) << 17);
		for (unsigned k = 1; k <= cfg->records; k++) {
			if (make_record(agent, i, k, k, &rng, &agent->records[k - 1]) != 0) {
				unsigned long error = ERR_get_error();
				const char *why =
				    error != 0 ? ERR_reason_error_string(error) : NULL;
				fail("cannot build record %u of agent %s (%s)", k, agent->id,
				     why != NULL ? why : "no OpenSSL error");
				work->rc = -1;
				break;
			}
			work->body_bytes += agent->records[k - 1].body_len;
		}
		agent->head = cfg->records;
	}
	return NULL;
}

#define PREGEN_MAX_THREADS 16

static int make_records(const struct bench_config *cfg, struct bench_agent *agents,
			size_t *report_bytes, size_t *body_bytes)
{
	*report_bytes = 0;
	*body_bytes = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = cores < 1			? 1
			   : cores > PREGEN_MAX_THREADS ? PREGEN_MAX_THREADS
							: (unsigned)cores;
	struct pregen_work work[PREGEN_MAX_THREADS];
	pthread_t ids[PREGEN_MAX_THREADS];
	unsigned started = 0;
	for (unsigned t = 0; t < threads; t++) {
		work[t] =
		    (struct pregen_work){.cfg = cfg, .agents = agents, .first = t, .step = threads};
		if (pthread_create(&ids[t], NULL, pregen_worker, &work[t]) != 0)
			break;
		started++;
	}
	int rc = started == threads ? 0 : -1;
	for (unsigned t = 0; t < started; t++) {
		pthread_join(ids[t], NULL);
		if (work[t].rc != 0)
			rc = -1;
		*body_bytes += work[t].body_bytes;
	}
	if (rc != 0) {
		fail("cannot build the records");
		return -1;
	}
	/* The SalesReport part of one body, for the record. */
	Innsync__RecordBody *body = (Innsync__RecordBody *)wire_unpack(
	    &innsync__record_body__descriptor, agents[0].records[0].body,
	    agents[0].records[0].body_len);
	if (body != NULL && body->sales_report != NULL)
		*report_bytes = protobuf_c_message_get_packed_size(&body->sales_report->base);
	wire_free((ProtobufCMessage *)body);
	return 0;
}

static int agent_connect(void *ctx, const struct hq_proc *hq, struct bench_agent *agent,
			 unsigned window)
{
	agent->socket = zmq_socket(ctx, ZMQ_DEALER);
	if (agent->socket == NULL ||
	    wire_setup_client(agent->socket, hq->key, agent->curve.public_z85,
			      agent->curve.secret_z85, WIRE_MAX_SYNC_MESSAGE) != 0 ||
	    zmq_connect(agent->socket, hq->sync_endpoint) != 0) {
		fail("cannot connect agent %s: %s", agent->id, zmq_strerror(errno));
		return -1;
	}
	/* every batch holds at least one record: at most min(window, head) in flight */
	agent->flight_cap = (size_t)(window < agent->head ? window : agent->head) + 1;
	agent->flight = calloc(agent->flight_cap, sizeof *agent->flight);
	agent->heartbeat_ms = 5000;
	return agent->flight != NULL ? 0 : -1;
}

static void agent_send_hello(struct bench_agent *agent)
{
	Innsync__DownCursor cursor = INNSYNC__DOWN_CURSOR__INIT;
	Innsync__DownCursor *cursors[1] = {&cursor};
	cursor.site = agent->site;
	cursor.seq = agent->down_cursor;
	Innsync__Hello hello = INNSYNC__HELLO__INIT;
	hello.protocol_version = WIRE_PROTOCOL_VERSION;
	hello.outbox_head = agent->head;
	hello.acked = agent->acked;
	hello.cursors = cursors;
	hello.n_cursors = 1;
	hello.software = "innsync-bench " INNSYNC_VERSION;
	Innsync__AgentMessage msg = INNSYNC__AGENT_MESSAGE__INIT;
	msg.msg_case = INNSYNC__AGENT_MESSAGE__MSG_HELLO;
	msg.hello = &hello;
	if (wire_send(agent->socket, &msg.base, ZMQ_DONTWAIT) == 0)
		agent->last_hello_ns = mono_ns();
}

static void agent_send_down_ack(struct bench_agent *agent, struct bench_stats *stats)
{
	Innsync__DownCursor cursor = INNSYNC__DOWN_CURSOR__INIT;
	Innsync__DownCursor *cursors[1] = {&cursor};
	cursor.site = agent->site;
	cursor.seq = agent->down_cursor;
	Innsync__DownAck ack = INNSYNC__DOWN_ACK__INIT;
	ack.cursors = cursors;
	ack.n_cursors = 1;
	Innsync__AgentMessage msg = INNSYNC__AGENT_MESSAGE__INIT;
	msg.msg_case = INNSYNC__AGENT_MESSAGE__MSG_DOWN_ACK;
	msg.down_ack = &ack;
	if (wire_send(agent->socket, &msg.base, ZMQ_DONTWAIT) == 0) {
		agent->down_ack_due = false;
		stats->down_acks++;
	}
}

/* Sends records sent_upto+1 .. +n as one RecordBatch, the manifest built and
 * signed now. 1 if sent, 0 if the socket would block, -1 on error. */
static int agent_send_batch(struct bench_agent *agent, size_t n, struct bench_stats *stats)
{
	static Innsync__SignedRecord records[WIRE_MAX_BATCH_RECORDS];
	static Innsync__SignedRecord *pointers[WIRE_MAX_BATCH_RECORDS];
	static ProtobufCBinaryData hashes[WIRE_MAX_BATCH_RECORDS];
	uint64_t first = agent->sent_upto + 1;
	if (n == 0 || n > WIRE_MAX_BATCH_RECORDS || first + n - 1 > agent->head)
		return -1;
	int64_t start = mono_ns();
	for (size_t i = 0; i < n; i++) {
		struct bench_record *rec = &agent->records[first - 1 + i];
		innsync__signed_record__init(&records[i]);
		records[i].body.data = rec->body;
		records[i].body.len = rec->body_len;
		records[i].signature.data = rec->signature;
		records[i].signature.len = SIGNATURE_LEN;
		hashes[i].data = rec->sha256;
		hashes[i].len = SHA256_LEN;
		pointers[i] = &records[i];
	}
	int rc = batch_send_signed(agent->socket, agent->id, agent->key, first, pointers, hashes, n);
	stats->sign_ns += mono_ns() - start;
	if (rc != 0) {
		if (errno == EAGAIN) {
			stats->send_eagain++;
			return 0;
		}
		return -1;
	}
	int64_t now = mono_ns();
	if (stats->first_send_ns == 0)
		stats->first_send_ns = now;
	size_t slot = (agent->flight_first + agent->flight_count) % agent->flight_cap;
	agent->flight[slot].first_seq = first;
	agent->flight[slot].last_seq = first + n - 1;
	agent->flight[slot].sent_ns = now;
	agent->flight_count++;
	agent->sent_upto = first + n - 1;
	stats->batches_sent++;
	return 1;
}

static void latency_add(struct bench_stats *stats, float ms, uint64_t count)
{
	for (uint64_t i = 0; i < count && stats->n_latency < stats->cap_latency; i++)
		stats->latency_ms[stats->n_latency++] = ms;
}

static void problem(struct bench_stats *stats, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct bench_stats *stats, const char *fmt, ...)
{
	if (stats->first_problem[0] != '\0')
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(stats->first_problem, sizeof stats->first_problem, fmt, ap);
	va_end(ap);
}

static void agent_on_ack(struct bench_agent *agent, const Innsync__Ack *ack,
			 struct bench_stats *stats)
{
	int64_t now = mono_ns();
	for (size_t i = 0; i < ack->n_refusals; i++) {
		stats->refusals++;
		problem(stats, "HQ refused record %s/%llu: %s", agent->id,
			(unsigned long long)ack->refusals[i]->seq,
			ack->refusals[i]->reason ? ack->refusals[i]->reason : "");
	}
	if (ack->upto <= agent->acked)
		return;
	if (ack->upto > agent->sent_upto) {
		problem(stats, "HQ acknowledged %s up to %llu, beyond what was sent (%llu)",
			agent->id, (unsigned long long)ack->upto,
			(unsigned long long)agent->sent_upto);
		return;
	}
	/* Every batch (or its part) up to upto gets its latency now. */
	while (agent->flight_count > 0) {
		struct in_flight *f = &agent->flight[agent->flight_first];
		if (f->first_seq > ack->upto)
			break;
		uint64_t last = f->last_seq <= ack->upto ? f->last_seq : ack->upto;
		latency_add(stats, (float)((double)(now - f->sent_ns) / 1e6),
			    last - f->first_seq + 1);
		if (last < f->last_seq) {
			f->first_seq = last + 1;
			break;
		}
		agent->flight_first = (agent->flight_first + 1) % agent->flight_cap;
		agent->flight_count--;
	}
	stats->acked_records += ack->upto - agent->acked;
	agent->acked = ack->upto;
	stats->last_ack_ns = now;
}

static void agent_on_down(struct bench_agent *agent, const Innsync__DownBatch *down,
			  struct bench_stats *stats)
{
	for (size_t i = 0; i < down->n_items; i++) {
		const Innsync__DownItem *item = down->items[i];
		stats->down_items++;
		if (item->site != NULL && strcmp(item->site, agent->site) == 0 &&
		    item->seq == agent->down_cursor + 1)
			agent->down_cursor = item->seq;
	}
	agent->down_ack_due = true;
}

/* Reads what HQ sent to one agent. */
static void agent_receive(struct bench_agent *agent, struct bench_stats *stats)
{
	for (int n = 0; n < BENCH_DRAIN_PER_SOCKET; n++) {
		zmq_msg_t frame;
		zmq_msg_init(&frame);
		if (zmq_msg_recv(&frame, agent->socket, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&frame);
			return;
		}
		Innsync__HqMessage *msg = (Innsync__HqMessage *)wire_unpack(
		    &innsync__hq_message__descriptor, zmq_msg_data(&frame), zmq_msg_size(&frame));
		zmq_msg_close(&frame);
		if (msg == NULL) {
			stats->errors++;
			problem(stats, "agent %s: HQ sent an unreadable message", agent->id);
			continue;
		}
		switch (msg->msg_case) {
		case INNSYNC__HQ_MESSAGE__MSG_WELCOME:
			if (agent->welcomed && msg->welcome->session != agent->session) {
				stats->errors++;
				problem(stats, "HQ restarted during the run (new session)");
			}
			if (agent->welcomed && msg->welcome->upstream_acked < agent->acked) {
				stats->errors++;
				problem(
				    stats,
				    "agent %s: HQ now holds up to %llu but had acknowledged %llu",
				    agent->id, (unsigned long long)msg->welcome->upstream_acked,
				    (unsigned long long)agent->acked);
			}
			if (!agent->welcomed && msg->welcome->upstream_acked > 0) {
				stats->errors++;
				problem(stats, "agent %s: HQ already holds %llu records of it",
					agent->id,
					(unsigned long long)msg->welcome->upstream_acked);
			}
			if (msg->welcome->heartbeat_ms >= 500 &&
			    msg->welcome->heartbeat_ms <= 60000)
				agent->heartbeat_ms = msg->welcome->heartbeat_ms;
			agent->session = msg->welcome->session;
			if (!agent->welcomed)
				stats->welcomes++;
			agent->welcomed = true;
			break;
		case INNSYNC__HQ_MESSAGE__MSG_ACK:
			agent_on_ack(agent, msg->ack, stats);
			break;
		case INNSYNC__HQ_MESSAGE__MSG_DOWN:
			agent_on_down(agent, msg->down, stats);
			break;
		case INNSYNC__HQ_MESSAGE__MSG_ERROR:
			stats->errors++;
			problem(stats, "agent %s: HQ error %d: %s", agent->id,
				(int)msg->error->code,
				msg->error->message ? msg->error->message : "");
			break;
		default:
			break;
		}
		wire_free((ProtobufCMessage *)msg);
	}
}

/* Sends what the window (and, paced, the schedule) allows. */
static void agent_pump(const struct bench_config *cfg, struct bench_agent *agent, int64_t pace_ns,
		       int64_t now, struct bench_stats *stats)
{
	for (unsigned guard = 0; guard < cfg->window + 1; guard++) {
		uint64_t remaining = agent->head - agent->sent_upto;
		if (remaining == 0)
			return;
		size_t n = remaining < cfg->batch ? (size_t)remaining : cfg->batch;
		if (agent->sent_upto - agent->acked + n > cfg->window)
			return;
		if (pace_ns > 0 && now < agent->next_send_ns)
			return;
		int rc = agent_send_batch(agent, n, stats);
		if (rc < 0) {
			stats->errors++;
			problem(stats, "agent %s: cannot send a batch: %s", agent->id,
				zmq_strerror(errno));
			return;
		}
		if (rc == 0)
			return;
		if (pace_ns > 0) {
			int64_t late = now - agent->next_send_ns;
			if (late > 2000000) {
				stats->late_batches++;
				if (late > stats->late_ns_max)
					stats->late_ns_max = late;
			}
			agent->next_send_ns += pace_ns;
			return; /* one batch per tick */
		}
	}
}

static int welcome_all(const struct bench_config *cfg, struct bench_agent *agents,
		       zmq_pollitem_t *items, struct bench_stats *stats)
{
	int64_t deadline = mono_ns() + (int64_t)BENCH_WELCOME_MS * 1000000;
	while (stats->welcomes < cfg->agents && mono_ns() < deadline && !bench_stop_requested) {
		int64_t now = mono_ns();
		for (unsigned i = 0; i < cfg->agents; i++) {
			if (!agents[i].welcomed && now - agents[i].last_hello_ns > 1000000000)
				agent_send_hello(&agents[i]);
		}
		if (zmq_poll(items, (int)cfg->agents, 100) < 0 && errno != EINTR)
			return -1;
		for (unsigned i = 0; i < cfg->agents; i++) {
			if (items[i].revents & ZMQ_POLLIN)
				agent_receive(&agents[i], stats);
		}
	}
	if (stats->welcomes < cfg->agents) {
		fail("only %llu of %u agents were welcomed by HQ within %d s",
		     (unsigned long long)stats->welcomes, cfg->agents, BENCH_WELCOME_MS / 1000);
		return -1;
	}
	return 0;
}

/* The measured phase. 0 when every record is acknowledged; -1 at the
 * deadline, on a stop request or after an error from HQ. */
static int stream(const struct bench_config *cfg, struct bench_agent *agents, zmq_pollitem_t *items,
		  struct bench_stats *stats)
{
	uint64_t total = (uint64_t)cfg->agents * cfg->records;
	int64_t start = mono_ns();
	int64_t deadline = start + (int64_t)cfg->timeout_s * 1000000000;
	/* paced: one batch per agent every batch x N / rate seconds, staggered */
	int64_t pace_ns =
	    cfg->rate > 0 ? (int64_t)((double)cfg->batch * cfg->agents / cfg->rate * 1e9) : 0;
	for (unsigned i = 0; i < cfg->agents; i++)
		agents[i].next_send_ns = start + (pace_ns * i) / cfg->agents;
	int64_t last_progress = start;
	while (stats->acked_records < total) {
		int64_t now = mono_ns();
		if (now > deadline || bench_stop_requested || stats->errors > 0 ||
		    stats->refusals > 0)
			return -1;
		int64_t wake = now + (int64_t)BENCH_POLL_MAX_MS * 1000000;
		for (unsigned i = 0; i < cfg->agents; i++) {
			struct bench_agent *agent = &agents[i];
			if (now - agent->last_hello_ns >= (int64_t)agent->heartbeat_ms * 1000000)
				agent_send_hello(agent);
			agent_pump(cfg, agent, pace_ns, now, stats);
			if (agent->down_ack_due)
				agent_send_down_ack(agent, stats);
			if (pace_ns > 0 && agent->sent_upto < agent->head &&
			    agent->next_send_ns < wake)
				wake = agent->next_send_ns;
		}
		long timeout_ms = (long)((wake - mono_ns()) / 1000000);
		if (zmq_poll(items, (int)cfg->agents, timeout_ms > 0 ? timeout_ms : 0) < 0 &&
		    errno != EINTR)
			return -1;
		for (unsigned i = 0; i < cfg->agents; i++) {
			if (items[i].revents & ZMQ_POLLIN)
				agent_receive(&agents[i], stats);
		}
		if (!cfg->quiet &&
		    mono_ns() - last_progress > (int64_t)BENCH_PROGRESS_MS * 1000000) {
			last_progress = mono_ns();
			note(cfg, "%.1f s: %llu of %llu records acknowledged",
			     (last_progress - start) / 1e9,
			     (unsigned long long)stats->acked_records, (unsigned long long)total);
		}
	}
	/* HQ still owes DownBatches for the last batches: answer what came. */
	int64_t settle = mono_ns() + 200000000;
	while (mono_ns() < settle) {
		if (zmq_poll(items, (int)cfg->agents, 20) < 0 && errno != EINTR)
			break;
		for (unsigned i = 0; i < cfg->agents; i++) {
			if (items[i].revents & ZMQ_POLLIN)
				agent_receive(&agents[i], stats);
			if (agents[i].down_ack_due)
				agent_send_down_ack(&agents[i], stats);
		}
	}
	return 0;
}

/*---- Results ---------------------------------------------------------------*/

static int compare_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values. */
static double percentile(const float *sorted, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

struct store_check {
	long long records, accepted, agents_complete, sales_reports;
	bool ok;
};

/* Counts what HQ holds (read after HQ stopped). */
static int check_store(const struct bench_config *cfg, const struct hq_proc *hq,
		       struct store_check *out)
{
	memset(out, 0, sizeof *out);
	char path[BENCH_PATH];
	if (path_join(path, sizeof path, hq->dir, "hq.db") != 0)
		return -1;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return -1;
	}
	char per_agent[160];
	snprintf(per_agent, sizeof per_agent,
		 "SELECT count(*) FROM (SELECT agent FROM records GROUP BY agent"
		 " HAVING count(*) = %u AND min(seq) = 1 AND max(seq) = %u)",
		 cfg->records, cfg->records);
	const char *queries[] = {
	    "SELECT count(*) FROM records",
	    "SELECT count(*) FROM records WHERE status = 'accepted'",
	    per_agent,
	    "SELECT count(*) FROM sales_reports",
	};
	long long *targets[] = {&out->records, &out->accepted, &out->agents_complete,
				&out->sales_reports};
	int rc = 0;
	for (size_t i = 0; i < 4; i++) {
		sqlite3_stmt *stmt = NULL;
		if (sqlite3_prepare_v2(db, queries[i], -1, &stmt, NULL) == SQLITE_OK &&
		    sqlite3_step(stmt) == SQLITE_ROW)
			*targets[i] = sqlite3_column_int64(stmt, 0);
		else
			rc = -1;
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
	long long total = (long long)cfg->agents * cfg->records;
	out->ok = rc == 0 && out->records == total && out->accepted == total &&
		  out->agents_complete == cfg->agents && out->sales_reports == total;
	return rc;
}

struct bench_result {
	double wall_s, records_per_s;
	double p50_ms, p90_ms, p99_ms, max_ms, mean_ms;
	double hq_cpu_s, hq_us_per_record, hq_cores;
	double bench_cpu_s;
	double others_cpu_s; /* busy CPU of every other process in the phase */
	double load_before;  /* 1-minute load average before the phase */
	long cpus;
	double setup_s, pregen_s;
	size_t report_bytes, body_bytes_avg;
	bool complete;
	struct store_check store;
	bool store_checked;
};

static void print_human(const struct bench_config *cfg, const struct hq_proc *hq,
			const struct bench_stats *stats, const struct bench_result *r)
{
	uint64_t total = (uint64_t)cfg->agents * cfg->records;
	printf("innsync-bench: %u agents x %u records = %llu records, batch %u, window %u, ",
	       cfg->agents, cfg->records, (unsigned long long)total, cfg->batch, cfg->window);
	if (cfg->rate > 0)
		printf("paced at %.0f records/s\n", cfg->rate);
	else
		printf("closed loop (as fast as the window allows)\n");
	printf("  config:      CURVE on, synchronous=FULL (WAL), manifest signature per batch, "
	       "store on %s (%s)\n",
	       fs_name(hq->dir), hq->dir);
	printf("  records:     SalesReport %zu bytes packed, RecordBody ~%zu bytes, Ed25519 "
	       "signature per record\n",
	       r->report_bytes, r->body_bytes_avg);
	printf("  setup:       %.1f s (HQ, %u sites, tokens, enrolment); records pre-built in %.1f "
	       "s\n",
	       r->setup_s, cfg->agents, r->pregen_s);
	printf("  acknowledged: %llu of %llu records in %.3f s%s\n",
	       (unsigned long long)stats->acked_records, (unsigned long long)total, r->wall_s,
	       r->complete ? "" : "  (INCOMPLETE)");
	printf("  throughput:  %.0f durable acknowledged records/s\n", r->records_per_s);
	printf("  ack latency: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (mean %.1f ms)\n",
	       r->p50_ms, r->p90_ms, r->p99_ms, r->max_ms, r->mean_ms);
	printf("  HQ CPU:      %.2f s = %.1f us/record (%.2f cores busy on average)\n", r->hq_cpu_s,
	       r->hq_us_per_record, r->hq_cores);
	printf("  bench CPU:   %.2f s (manifest signing and send %.3f s, %llu batches, %llu EAGAIN)\n",
	       r->bench_cpu_s, stats->sign_ns / 1e9, (unsigned long long)stats->batches_sent,
	       (unsigned long long)stats->send_eagain);
	printf("  machine:     %ld CPUs; other processes used %.2f CPU-s during the phase "
	       "(%.2f cores), load average %.2f before it%s\n",
	       r->cpus, r->others_cpu_s, r->wall_s > 0 ? r->others_cpu_s / r->wall_s : 0,
	       r->load_before,
	       r->wall_s > 0 && r->others_cpu_s / r->wall_s > 0.1 ? "  (NOISY: latency suspect)"
								  : "");
	if (cfg->rate > 0)
		printf("  pacing:      %llu batches left more than 2 ms late (worst %.1f ms)\n",
		       (unsigned long long)stats->late_batches, stats->late_ns_max / 1e6);
	printf("  downstream:  %llu items received, %llu DownAcks sent\n",
	       (unsigned long long)stats->down_items, (unsigned long long)stats->down_acks);
	if (r->store_checked)
		printf("  HQ store:    %lld records (%lld accepted), %lld/%u agents complete "
		       "1..%u: %s\n",
		       r->store.records, r->store.accepted, r->store.agents_complete, cfg->agents,
		       cfg->records, r->store.ok ? "exactly N x R, verified" : "MISMATCH");
	else
		printf("  HQ store:    not checked\n");
	if (stats->first_problem[0] != '\0')
		printf("  problem:     %s\n", stats->first_problem);
}

static void print_json(const struct bench_config *cfg, const struct hq_proc *hq,
		       const struct bench_stats *stats, const struct bench_result *r)
{
	json_t *config = json_pack(
	    "{s:i, s:i, s:i, s:i, s:f, s:b, s:s, s:s, s:s, s:I, s:I}", "agents", (int)cfg->agents,
	    "records_per_agent", (int)cfg->records, "batch", (int)cfg->batch, "window",
	    (int)cfg->window, "rate", cfg->rate, "curve", 1, "synchronous", "FULL", "filesystem",
	    fs_name(hq->dir), "data", hq->dir, "report_bytes", (json_int_t)r->report_bytes,
	    "body_bytes", (json_int_t)r->body_bytes_avg);
	json_t *root = json_pack(
	    "{s:o, s:I, s:I, s:b, s:f, s:f, s:{s:f, s:f, s:f, s:f, s:f}, s:{s:f, s:f, s:f},"
	    " s:{s:f, s:f, s:I}, s:I, s:I, s:I, s:I, s:f, s:f}",
	    "config", config, "records_total", (json_int_t)cfg->agents * cfg->records,
	    "records_acked", (json_int_t)stats->acked_records, "complete", r->complete, "wall_s",
	    r->wall_s, "records_per_s", r->records_per_s, "latency_ms", "p50", r->p50_ms, "p90",
	    r->p90_ms, "p99", r->p99_ms, "max", r->max_ms, "mean", r->mean_ms, "hq_cpu", "seconds",
	    r->hq_cpu_s, "us_per_record", r->hq_us_per_record, "cores", r->hq_cores, "bench_cpu",
	    "seconds", r->bench_cpu_s, "signing_s", stats->sign_ns / 1e9, "batches",
	    (json_int_t)stats->batches_sent, "refusals", (json_int_t)stats->refusals, "errors",
	    (json_int_t)stats->errors, "down_items", (json_int_t)stats->down_items, "down_acks",
	    (json_int_t)stats->down_acks, "setup_s", r->setup_s, "pregen_s", r->pregen_s);
	if (root == NULL)
		return;
	json_object_set_new(root, "machine",
			    json_pack("{s:I, s:f, s:f}", "cpus", (json_int_t)r->cpus,
				      "others_cpu_s", r->others_cpu_s, "load_before",
				      r->load_before));
	if (r->store_checked)
		json_object_set_new(
		    root, "store",
		    json_pack("{s:I, s:I, s:I, s:I, s:b}", "records", (json_int_t)r->store.records,
			      "accepted", (json_int_t)r->store.accepted, "agents_complete",
			      (json_int_t)r->store.agents_complete, "sales_reports",
			      (json_int_t)r->store.sales_reports, "verified", r->store.ok));
	else
		json_object_set_new(root, "store", json_null());
	json_object_set_new(root, "problem",
			    stats->first_problem[0] ? json_string(stats->first_problem)
						    : json_null());
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text != NULL) {
		printf("%s\n", text);
		free(text);
	}
	json_decref(root);
}

/*---- Command line ----------------------------------------------------------*/

static void print_help(void)
{
	printf("usage: innsync-bench [--agents N] [--records R] [--batch B] [--window W]\n"
	       "                     [--rate RECORDS_PER_S] [--timeout S] [--dir DIR] [--keep]\n"
	       "                     [--hq PATH] [--branch PATH] [--perf FILE] [--json] [--quiet]\n"
	       "Starts a fresh innsync-hq, enrols N agents and streams N x R signed sales-report\n"
	       "records to it over CURVE from one process; reports durable acknowledged\n"
	       "records/s, ack latency p50/p99/max and HQ CPU per record.\n"
	       "  --agents N    simulated branch agents (default 200)\n"
	       "  --records R   records per agent, revisions 1..R of one report (default 500)\n"
	       "  --batch B     records per RecordBatch, at most %d (default 256)\n"
	       "  --window W    records in flight per agent beyond its last Ack (default 1024)\n"
	       "  --rate X      offer X records/s in total, one batch per agent every B*N/X s\n"
	       "                (default 0: closed loop, as fast as the window allows)\n"
	       "  --timeout S   deadline of the measured phase (default 300)\n"
	       "  --dir DIR     where to make the temporary directory (default $TMPDIR or /tmp)\n"
	       "  --keep        keep the temporary directory (HQ store, agents, hq.log)\n"
	       "  --hq PATH, --branch PATH  the programs (default: next to this binary's\n"
	       "                directory, ../innsync-hq, else from $PATH)\n"
	       "  --perf FILE   `perf record --call-graph dwarf` of HQ during the measured phase\n"
	       "  --json        print the results as JSON\n"
	       "  --quiet       no progress lines on stderr\n"
	       "Exit status: 0 when every record was acknowledged and HQ holds exactly N x R;\n"
	       "1 otherwise (deadline, error, mismatch); 2 for a bad command line.\n",
	       WIRE_MAX_BATCH_RECORDS);
}

/* Default program path: ../NAME next to this binary, else NAME (from PATH). */
static void default_program(const char *name, char *out, size_t outlen)
{
	char self[BENCH_PATH];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	copy_string(out, outlen, name);
	if (n <= 0)
		return;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash == NULL)
		return;
	*slash = '\0';
	char candidate[BENCH_PATH];
	if (snprintf(candidate, sizeof candidate, "%s/../%s", self, name) < (int)sizeof candidate &&
	    access(candidate, X_OK) == 0) {
		char resolved[PATH_MAX];
		copy_string(out, outlen, realpath(candidate, resolved) ? resolved : candidate);
		return;
	}
	if (snprintf(candidate, sizeof candidate, "%s/%s", self, name) < (int)sizeof candidate &&
	    access(candidate, X_OK) == 0)
		copy_string(out, outlen, candidate);
}

static int parse_uint(const char *flag, const char *text, uint64_t min, uint64_t max, unsigned *out)
{
	uint64_t value = 0;
	if (parse_u64(text, min, max, &value) != 0) {
		fail("%s must be a whole number from %llu to %llu (got \"%s\")", flag,
		     (unsigned long long)min, (unsigned long long)max, text);
		return -1;
	}
	*out = (unsigned)value;
	return 0;
}

/* 0 to run, 1 after --help, 2 on a bad command line. */
static int parse_args(int argc, char **argv, struct bench_config *cfg)
{
	static const struct option options[] = {
	    {"agents", required_argument, NULL, 'n'},
	    {"records", required_argument, NULL, 'r'},
	    {"batch", required_argument, NULL, 'b'},
	    {"window", required_argument, NULL, 'w'},
	    {"rate", required_argument, NULL, 'R'},
	    {"timeout", required_argument, NULL, 't'},
	    {"dir", required_argument, NULL, 'D'},
	    {"keep", no_argument, NULL, 'k'},
	    {"hq", required_argument, NULL, 'H'},
	    {"branch", required_argument, NULL, 'B'},
	    {"perf", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	memset(cfg, 0, sizeof *cfg);
	cfg->agents = 200;
	cfg->records = 500;
	cfg->batch = WIRE_MAX_BATCH_RECORDS;
	cfg->window = 1024;
	cfg->timeout_s = 300;
	cfg->base_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	default_program("innsync-hq", cfg->hq_path, sizeof cfg->hq_path);
	default_program("innsync-branch", cfg->branch_path, sizeof cfg->branch_path);
	int opt;
	uint64_t rate = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int bad = 0;
		switch (opt) {
		case 'n':
			bad = parse_uint("--agents", optarg, 1, BENCH_MAX_AGENTS, &cfg->agents);
			break;
		case 'r':
			bad = parse_uint("--records", optarg, 1, BENCH_MAX_RECORDS, &cfg->records);
			break;
		case 'b':
			bad = parse_uint("--batch", optarg, 1, WIRE_MAX_BATCH_RECORDS, &cfg->batch);
			break;
		case 'w':
			bad = parse_uint("--window", optarg, 1, 1000000, &cfg->window);
			break;
		case 'R':
			if (parse_u64(optarg, 0, 10000000, &rate) != 0) {
				fail("--rate must be records/s from 0 to 10000000 (got \"%s\")",
				     optarg);
				bad = -1;
			}
			cfg->rate = (double)rate;
			break;
		case 't':
			bad = parse_uint("--timeout", optarg, 1, 86400, &cfg->timeout_s);
			break;
		case 'D':
			cfg->base_dir = optarg;
			break;
		case 'k':
			cfg->keep = true;
			break;
		case 'H':
			bad = copy_string(cfg->hq_path, sizeof cfg->hq_path, optarg);
			break;
		case 'B':
			bad = copy_string(cfg->branch_path, sizeof cfg->branch_path, optarg);
			break;
		case 'p':
			cfg->perf_out = optarg;
			break;
		case 'j':
			cfg->json = true;
			break;
		case 'q':
			cfg->quiet = true;
			break;
		case 'h':
			print_help();
			return 1;
		default:
			return 2;
		}
		if (bad != 0)
			return 2;
	}
	if (optind < argc) {
		fail("unexpected argument \"%s\" (see --help)", argv[optind]);
		return 2;
	}
	if ((uint64_t)cfg->agents * cfg->records > BENCH_MAX_TOTAL) {
		fail("--agents x --records is limited to %d", BENCH_MAX_TOTAL);
		return 2;
	}
	if (cfg->window < cfg->batch) {
		fail("--window (%u) must be at least --batch (%u)", cfg->window, cfg->batch);
		return 2;
	}
	return 0;
}

/*---- Main ------------------------------------------------------------------*/

static void raise_fd_limit(unsigned agents)
{
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
		return;
	rlim_t want = (rlim_t)agents * 4 + 256;
	if (limit.rlim_cur < want) {
		limit.rlim_cur = want < limit.rlim_max ? want : limit.rlim_max;
		setrlimit(RLIMIT_NOFILE, &limit);
	}
}

int main(int argc, char **argv)
{
	struct bench_config cfg;
	int parsed = parse_args(argc, argv, &cfg);
	if (parsed != 0)
		return parsed == 1 ? 0 : 2;
	struct sigaction action;
	memset(&action, 0, sizeof action);
	action.sa_handler = on_stop_signal;
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(cfg.agents);

	struct hq_proc hq;
	memset(&hq, 0, sizeof hq);
	struct bench_stats stats;
	memset(&stats, 0, sizeof stats);
	struct bench_result result;
	memset(&result, 0, sizeof result);
	struct bench_agent *agents = calloc(cfg.agents, sizeof *agents);
	char(*tokens)[128] = calloc(cfg.agents, sizeof *tokens);
	zmq_pollitem_t *items = calloc(cfg.agents, sizeof *items);
	stats.cap_latency = (size_t)cfg.agents * cfg.records;
	stats.latency_ms = calloc(stats.cap_latency, sizeof *stats.latency_ms);
	void *ctx = NULL;
	int exit_code = 1;
	if (agents == NULL || tokens == NULL || items == NULL || stats.latency_ms == NULL) {
		fail("out of memory");
		goto done;
	}
	if (snprintf(hq.dir, sizeof hq.dir, "%s/innsync-bench-XXXXXX", cfg.base_dir) >=
		(int)sizeof hq.dir ||
	    mkdtemp(hq.dir) == NULL) {
		fail("cannot create a temporary directory in %s: %s", cfg.base_dir,
		     strerror(errno));
		hq.dir[0] = '\0';
		goto done;
	}

	/* 1. HQ, sites, tokens, daemon, enrolment. */
	int64_t setup_start = mono_ns();
	note(&cfg, "HQ in %s (%s), %s, %s", hq.dir, fs_name(hq.dir), cfg.hq_path, cfg.branch_path);
	if (hq_init(&cfg, &hq) != 0)
		goto done;
	note(&cfg, "adding %u sites and their tokens", cfg.agents);
	if (hq_add_sites(&cfg, &hq, tokens) != 0 || hq_start(&cfg, &hq) != 0)
		goto done;
	note(&cfg, "HQ running (pid %d) on %s; enrolling %u agents", (int)hq.pid, hq.sync_endpoint,
	     cfg.agents);
	for (unsigned i = 0; i < cfg.agents; i++) {
		site_id(i, agents[i].site, sizeof agents[i].site);
		if (snprintf(agents[i].data_dir, sizeof agents[i].data_dir, "%s/agents/%u", hq.dir,
			     i) >= (int)sizeof agents[i].data_dir) {
			fail("temporary directory path too long");
			goto done;
		}
	}
	if (enroll_agents(&cfg, &hq, agents, tokens) != 0)
		goto done;
	result.setup_s = (mono_ns() - setup_start) / 1e9;

	/* 2. Records, built before timing. */
	note(&cfg, "building %llu signed records", (unsigned long long)cfg.agents * cfg.records);
	int64_t pregen_start = mono_ns();
	size_t body_bytes = 0;
	if (make_records(&cfg, agents, &result.report_bytes, &body_bytes) != 0)
		goto done;
	result.body_bytes_avg = body_bytes / ((size_t)cfg.agents * cfg.records);
	result.pregen_s = (mono_ns() - pregen_start) / 1e9;

	/* 3. Sockets, Hello/Welcome, then the measured phase. */
	ctx = zmq_ctx_new();
	if (ctx == NULL || zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)cfg.agents + 64) != 0) {
		fail("cannot create a ZeroMQ context");
		goto done;
	}
	for (unsigned i = 0; i < cfg.agents; i++) {
		if (agent_connect(ctx, &hq, &agents[i], cfg.window) != 0)
			goto done;
		items[i].socket = agents[i].socket;
		items[i].events = ZMQ_POLLIN;
	}
	note(&cfg, "connecting %u agents", cfg.agents);
	if (welcome_all(&cfg, agents, items, &stats) != 0)
		goto done;
	perf_start(&cfg, &hq);
	note(&cfg, "streaming");
	result.load_before = load_average();
	result.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double machine_start = machine_busy_seconds();
	double hq_cpu_start = process_cpu_seconds(hq.pid);
	double self_cpu_start = self_cpu_seconds();
	int streamed = stream(&cfg, agents, items, &stats);
	double hq_cpu_end = process_cpu_seconds(hq.pid);
	double self_cpu_end = self_cpu_seconds();
	double machine_end = machine_busy_seconds();
	if (hq.perf_pid > 0)
		stop_child(&hq.perf_pid, SIGINT);
	if (stats.last_ack_ns == 0)
		stats.last_ack_ns = mono_ns();
	result.complete = streamed == 0;
	result.wall_s = stats.first_send_ns ? (stats.last_ack_ns - stats.first_send_ns) / 1e9 : 0;
	result.records_per_s = result.wall_s > 0 ? stats.acked_records / result.wall_s : 0;
	result.hq_cpu_s = hq_cpu_start >= 0 && hq_cpu_end >= 0 ? hq_cpu_end - hq_cpu_start : 0;
	result.hq_us_per_record =
	    stats.acked_records ? result.hq_cpu_s * 1e6 / (double)stats.acked_records : 0;
	result.hq_cores = result.wall_s > 0 ? result.hq_cpu_s / result.wall_s : 0;
	result.bench_cpu_s = self_cpu_end - self_cpu_start;
	if (machine_start >= 0 && machine_end >= 0) {
		result.others_cpu_s =
		    machine_end - machine_start - result.hq_cpu_s - result.bench_cpu_s;
		if (result.others_cpu_s < 0)
			result.others_cpu_s = 0; /* tick rounding */
	}
	if (stats.n_latency > 0) {
		qsort(stats.latency_ms, stats.n_latency, sizeof *stats.latency_ms, compare_float);
		double sum = 0;
		for (size_t i = 0; i < stats.n_latency; i++)
			sum += stats.latency_ms[i];
		result.mean_ms = sum / (double)stats.n_latency;
		result.p50_ms = percentile(stats.latency_ms, stats.n_latency, 50);
		result.p90_ms = percentile(stats.latency_ms, stats.n_latency, 90);
		result.p99_ms = percentile(stats.latency_ms, stats.n_latency, 99);
		result.max_ms = stats.latency_ms[stats.n_latency - 1];
	}

	/* 4. Stop HQ cleanly, then count what it holds. */
	for (unsigned i = 0; i < cfg.agents; i++) {
		if (agents[i].socket != NULL)
			zmq_close(agents[i].socket);
		agents[i].socket = NULL;
	}
	stop_child(&hq.pid, SIGTERM);
	result.store_checked = check_store(&cfg, &hq, &result.store) == 0;
	if (cfg.json)
		print_json(&cfg, &hq, &stats, &result);
	else
		print_human(&cfg, &hq, &stats, &result);
	fflush(stdout);
	exit_code = result.complete && result.store_checked && result.store.ok ? 0 : 1;

done:
	if (hq.perf_pid > 0)
		stop_child(&hq.perf_pid, SIGINT);
	if (hq.pid > 0)
		stop_child(&hq.pid, SIGTERM);
	if (agents != NULL) {
		for (unsigned i = 0; i < cfg.agents; i++) {
			if (agents[i].socket != NULL)
				zmq_close(agents[i].socket);
			signing_key_destroy(&agents[i].key);
			if (agents[i].records != NULL) {
				for (unsigned k = 0; k < cfg.records; k++)
					free(agents[i].records[k].body);
				free(agents[i].records);
			}
			free(agents[i].flight);
		}
	}
	if (ctx != NULL)
		zmq_ctx_term(ctx);
	if (hq.dir[0] != '\0') {
		if (cfg.keep || exit_code != 0)
			note(&cfg, "kept %s (HQ log: %s/hq.log)", hq.dir, hq.dir);
		else
			remove_tree(hq.dir);
	}
	free(agents);
	free(tokens);
	free(items);
	free(stats.latency_ms);
	return exit_code;
}
