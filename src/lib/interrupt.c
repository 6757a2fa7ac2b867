/*
 * interrupt.c -- stopping what the servers run when the program is told
 * to stop (strata_interrupt, called from a signal handler).
 *
 * A process that dies leaves its statement running on a PostgreSQL server,
 * with its locks, until the statement ends: a Ctrl-C or a SIGTERM during a
 * long migration would keep the application locked out. So every open
 * connection is tracked here with a way to stop it (a PostgreSQL cancel
 * request, sqlite3_interrupt), and strata_interrupt wakes a thread that
 * sends them -- a signal handler itself may only set a flag and post a
 * semaphore. The thread exists only in a program that asked for it
 * (strata_interrupt_init), from its first connection on; a library user
 * that never asked has none. The loops that wait (for the lock, for a
 * server) and the statement runners ask intr_requested() and stop.
 */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>

#define SLOTS 64

static struct {
    const void *key; /* the connection */
    void *h;         /* what stops it */
    intr_fn stop;    /* stop(h): from the canceller thread */
    intr_fn release; /* release(h): when untracked */
} slot[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static sem_t wake;
static volatile sig_atomic_t enabled, ready, requested;

static void *canceller(void *arg)
{
    (void)arg;
    for (;;) {
        while (sem_wait(&wake) != 0 && errno == EINTR)
            ;
        pthread_mutex_lock(&mu);
        for (int i = 0; i < SLOTS; i++)
            if (slot[i].key)
                slot[i].stop(slot[i].h);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void start(void)
{
    if (sem_init(&wake, 0, 0) != 0)
        return;
    /* the thread takes no signal meant for the program */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t t;
    if (pthread_create(&t, NULL, canceller, NULL) == 0) {
        pthread_detach(t);
        ready = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void strata_interrupt_init(void)
{
    /* the thread starts with the first connection: a process that forks
       first (strata check's child does the work) has it where it connects */
    enabled = 1;
}

void intr_track(const void *key, void *h, intr_fn stop, intr_fn release)
{
    if (!key || !h)
        return;
    if (enabled)
        pthread_once(&once, start);
    if (!ready) { /* strata_interrupt_init was not called (or failed) */
        if (release)
            release(h);
        return;
    }
    pthread_mutex_lock(&mu);
    int i = 0;
    while (i < SLOTS && slot[i].key)
        i++;
    if (i < SLOTS) {
        slot[i].key = key;
        slot[i].h = h;
        slot[i].stop = stop;
        slot[i].release = release;
        h = NULL;
    }
    pthread_mutex_unlock(&mu);
    if (h && release) /* no slot left: this connection cannot be stopped */
        release(h);
}

void intr_untrack(const void *key)
{
    if (!key)
        return;
    void *h = NULL;
    intr_fn release = NULL;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < SLOTS; i++)
        if (slot[i].key == key) {
            h = slot[i].h;
            release = slot[i].release;
            memset(&slot[i], 0, sizeof(slot[i]));
            break;
        }
    pthread_mutex_unlock(&mu);
    if (h && release)
        release(h);
}

int intr_ready(void)
{
    return enabled != 0;
}

int intr_requested(void)
{
    return requested != 0;
}

void strata_interrupt(void)
{
    /* async-signal-safe: a flag and sem_post */
    requested = 1;
    if (ready)
        sem_post(&wake);
}

strata_code intr_error(strata_error *err, const char *what)
{
    err_set(err, STRATA_INTERRUPTED, "interrupted (a signal told strata to stop)%s%s", what ? " " : "",
            what ? what : "");
    return STRATA_INTERRUPTED;
}
