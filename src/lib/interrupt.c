/*
 * interrupt.c -- stopping what the servers run when the program is told
 * to stop (strata_interrupt, called from a signal handler).
 *
 * A process that dies leaves its statement running on a PostgreSQL server,
 * with its locks, until the statement ends: a Ctrl-C or a SIGTERM during a
 * long migration would keep the application locked out. So every open
 * connection is tracked here with a way to stop it -- a PostgreSQL cancel
 * request (PQcancel, which libpq makes safe in a signal handler) or
 * sqlite3_interrupt (a flag) -- and strata_interrupt sends them all from
 * the handler itself. The loops that wait (for the lock, for a server) and
 * the statement runners ask intr_requested() and stop.
 *
 * The cancel requests go out from a thread of their own, started by
 * strata_interrupt_init: libpq's PQcancel waits for the server to close the
 * cancel connection, without a time limit (a network gone quiet, a paused
 * pooler), and inside the handler that wait would hold the handler -- the
 * grace's strata_interrupt_force could not end the run, a second signal
 * would stay masked. The handler posts a semaphore (async-signal-safe) and
 * returns; the thread sends them. Where there is no such thread (it could
 * not be started; a forked child, which threads do not follow) the
 * handler sends them itself. sqlite3_interrupt, a flag, is always set
 * from the handler.
 *
 * The registry is read by a handler that may run on any thread at any
 * moment, so it takes no lock there: each slot holds a pointer to an
 * immutable record, swapped atomically; a handler counts itself in while it
 * reads (in_handler), and a record untracked meanwhile is freed only once
 * no handler is in (until then it waits in the grave). Sequentially
 * consistent atomics make "the handler saw the record" imply "untrack sees
 * the handler in".
 */
#include "internal.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLOTS 64

typedef struct rec {
    const void *key; /* the connection */
    void *h;         /* what stops it */
    intr_fn stop;    /* stop(h): from a signal handler, any thread */
    intr_fn release; /* release(h): when untracked, outside any handler */
    int fd;          /* its socket, which strata_interrupt_force shuts; or -1 */
} rec;

static _Atomic(rec *) slot[SLOTS];
static atomic_int in_handler;
static volatile sig_atomic_t enabled, requested, forced;
/* writers (track, untrack) under mu; the grave too */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static rec *grave[SLOTS];
static int ngrave;

static void rec_free(rec *r)
{
    if (r->release)
        r->release(r->h);
    free(r);
}

/* Under mu: frees what waited for the handlers to leave, once none is in. */
static void bury(void)
{
    if (!ngrave || atomic_load(&in_handler))
        return;
    for (int i = 0; i < ngrave; i++)
        rec_free(grave[i]);
    ngrave = 0;
}

/* the cancel sender (see above); canceller_pid: the process that has it.
   Around a fork it is stopped, and started again in the parent
   (pthread_atfork): a child with a thread it does not have would trouble
   tools that walk the threads at exit (LeakSanitizer). The child needs
   nothing done: canceller_pid is not its pid, so its handler sends the
   cancels itself. */
static sem_t wake;
static volatile pid_t canceller_pid;
static pthread_t canceller_thread;
static volatile int canceller_quit;

/* The one walk over the registry, counted in as a handler. STOP_FAST and
   STOP_SLOW call stop on the records whose stop never blocks (no socket)
   or may block (a cancel request over a socket); STOP_CUT shuts the
   sockets down. */
enum { STOP_FAST, STOP_SLOW, STOP_CUT };
static void stop_all(int how)
{
    atomic_fetch_add(&in_handler, 1);
    for (int i = 0; i < SLOTS; i++) {
        rec *r = atomic_load(&slot[i]);
        if (!r)
            continue;
        if (how == STOP_CUT) {
            if (r->fd >= 0)
                shutdown(r->fd, SHUT_RDWR);
        } else if ((r->fd >= 0) == (how == STOP_SLOW)) {
            r->stop(r->h);
        }
    }
    atomic_fetch_sub(&in_handler, 1);
}

static void *canceller(void *arg)
{
    (void)arg;
    for (;;) {
        if (sem_wait(&wake) != 0)
            continue;
        if (canceller_quit)
            return NULL;
        stop_all(STOP_SLOW);
    }
}

static void canceller_start(void)
{
    /* every signal blocked in the thread: the handlers run elsewhere */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    canceller_quit = 0;
    if (pthread_create(&canceller_thread, NULL, canceller, NULL) == 0)
        canceller_pid = getpid();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void before_fork(void)
{
    /* not once a signal came: the thread may be in a cancel request that
       waits for a silent server */
    if (canceller_pid != getpid() || requested)
        return;
    canceller_quit = 1;
    sem_post(&wake);
    pthread_join(canceller_thread, NULL);
    canceller_pid = 0;
}
static void after_fork_parent(void)
{
    if (!canceller_pid && !requested)
        canceller_start();
}

void strata_interrupt_init(void)
{
    static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&once);
    if (!enabled && sem_init(&wake, 0, 0) == 0) {
        canceller_start();
        pthread_atfork(before_fork, after_fork_parent, NULL);
    }
    enabled = 1;
    pthread_mutex_unlock(&once);
}

int intr_ready(void)
{
    return enabled != 0;
}

void intr_track(const void *key, void *h, intr_fn stop, intr_fn release, int fd)
{
    if (!key || !h)
        return;
    rec *r = enabled ? malloc(sizeof(*r)) : NULL;
    if (!r) { /* strata_interrupt_init was not called (or no memory) */
        if (release)
            release(h);
        return;
    }
    *r = (rec){key, h, stop, release, fd};
    pthread_mutex_lock(&mu);
    bury();
    int i = 0;
    while (i < SLOTS && atomic_load(&slot[i]))
        i++;
    if (i < SLOTS)
        atomic_store(&slot[i], r);
    pthread_mutex_unlock(&mu);
    if (i == SLOTS) /* no slot left: this connection cannot be stopped */
        rec_free(r);
}

void intr_untrack(const void *key)
{
    if (!key || !enabled)
        return;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < SLOTS; i++) {
        rec *r = atomic_load(&slot[i]);
        if (!r || r->key != key)
            continue;
        atomic_store(&slot[i], NULL);
        if (atomic_load(&in_handler) && ngrave < SLOTS)
            grave[ngrave++] = r; /* a handler may be using it */
        else if (!atomic_load(&in_handler))
            rec_free(r);
        /* else: a full grave while a handler runs -- kept (a leak of one
           small record beats freeing what a handler reads) */
        break;
    }
    bury();
    pthread_mutex_unlock(&mu);
}

int intr_requested(void)
{
    return requested != 0;
}

void strata_interrupt(void)
{
    /* async-signal-safe: a flag, atomics, sem_post, getpid, PQcancel,
       sqlite3_interrupt */
    requested = 1;
    stop_all(STOP_FAST);
    if (canceller_pid && canceller_pid == getpid())
        sem_post(&wake);
    else
        stop_all(STOP_SLOW);
}

int intr_forced(void)
{
    return forced != 0;
}

void strata_interrupt_force(void)
{
    /* async-signal-safe: a flag, atomics, shutdown(2). A socket number
       reused after its connection was untracked here in the meantime is at
       worst another of strata's connections (stopping anyway) or not a
       socket at all (ENOTSOCK): never someone else's stream cut short */
    requested = forced = 1;
    stop_all(STOP_CUT);
}

strata_code intr_error(strata_error *err, const char *what)
{
    err_set(err, STRATA_INTERRUPTED, "interrupted (a signal told strata to stop)%s%s", what ? " " : "",
            what ? what : "");
    return STRATA_INTERRUPTED;
}
