/*
 * pqload.h -- libpq, loaded on first use.
 *
 * libpq drags in GnuTLS, LDAP, Kerberos and SASL, whose initialisers cost
 * about 15 ms at every process start. SQLite users should not pay that, so
 * strata opens libpq.so.5 with dlopen() only when a PostgreSQL URL is used,
 * and calls it through this table (pq.PQexec(...)).
 */
#ifndef STRATA_PQLOAD_H
#define STRATA_PQLOAD_H

#include "internal.h"
#include <libpq-fe.h>

/* clang-format off */
#define PQ_FUNCS(X)                                                                                 \
    X(PQconnectdbParams) X(PQstatus) X(PQerrorMessage) X(PQfinish) X(PQsetNoticeReceiver)          \
    X(PQexec) X(PQexecParams) X(PQresultStatus) X(PQresultErrorField) X(PQresultErrorMessage)      \
    X(PQclear) X(PQntuples) X(PQnfields) X(PQgetvalue) X(PQgetisnull) X(PQconninfoParse)           \
    X(PQconninfoFree) X(PQfreemem) X(PQconninfo)                                                   \
    X(PQconnectStartParams) X(PQconnectPoll) X(PQsocket) X(PQpingParams) X(PQserverVersion)        \
    X(PQdb) X(PQhost) X(PQhostaddr) X(PQport)                                                              \
    X(PQputCopyData) X(PQputCopyEnd) X(PQgetResult) X(PQcmdTuples)                                 \
    X(PQbackendPID) X(PQsendQuery) X(PQsendQueryParams) X(PQconsumeInput) X(PQisBusy)              \
    X(PQtransactionStatus) X(PQreset) X(PQparameterStatus)                               \
    X(PQgetCancel) X(PQcancel) X(PQfreeCancel) X(PQsetErrorVerbosity) X(PQlibVersion)
/* clang-format on */

struct pq_api {
#define PQ_FIELD(f) __typeof__(f) *f;
    PQ_FUNCS(PQ_FIELD)
#undef PQ_FIELD
};

extern struct pq_api pq;

/* Loads libpq once (thread-safe); STRATA_OK, or CONFIG_ERROR with a hint. */
strata_code pq_load(strata_error *err);

#endif
