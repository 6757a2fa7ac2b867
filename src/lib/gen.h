/*
 * gen.h -- the schema model and the migration plan of `strata diff`
 * (docs/diff.md); shared by gen.c (engine-neutral: inputs, proof, output)
 * and the engines' readers and planners (postgres/pg_gen.c,
 * sqlite/sq_gen.c), reached through drv_ops.gen_read and drv_ops.gen_plan.
 *
 * The model holds what a planner needs to write DDL; whether two schemas
 * are equal is decided by the schema text (docs/schema.md), which is also
 * what the proof compares. Every string is malloc'd and owned by its model.
 * Names: `name` as stored in the catalog, `q` quoted for SQL when needed.
 */
#ifndef STRATA_GEN_H
#define STRATA_GEN_H

#include "internal.h"

typedef struct gen_col {
    char *name, *q;
    char *type;    /* PostgreSQL: format_type; SQLite: the declared type */
    char *dflt;    /* default expression, or NULL */
    char *gen;     /* generated expression, or NULL */
    char *collate; /* PostgreSQL: a collation other than the type's, quoted */
    char *comment; /* PostgreSQL: COMMENT ON COLUMN */
    int notnull;
    int hidden;    /* SQLite: table_xinfo's hidden (2, 3: generated) */
    char identity; /* PostgreSQL: 'a' always, 'd' by default, 0 */
} gen_col;

/* A constraint, index or trigger of a table. */
typedef struct gen_item {
    char kind; /* 'p' 'u' 'c' 'f' 'x': constraint; 'i' index; 't' trigger; 'l' policy (PostgreSQL) */
    char *name, *q;
    char *def;  /* PostgreSQL: pg_get_constraintdef / pg_get_indexdef; SQLite: the CREATE text */
    char *norm; /* what is compared: def, or its canonical rendering (SQLite) */
} gen_item;

typedef struct gen_table {
    char *name, *q;
    char *sql;     /* SQLite: the CREATE TABLE text */
    char *comment; /* PostgreSQL: COMMENT ON TABLE */
    int unlogged;  /* PostgreSQL: UNLOGGED */
    int rls;       /* PostgreSQL: row level security, 1 enabled, 3 enabled and forced (2: forced only) */
    gen_col *cols;
    size_t ncols, capcols;
    gen_item *items;
    size_t nitems, capitems;
} gen_table;

/* Objects outside tables. */
typedef struct gen_obj {
    char kind; /* 'x' extension, 'e' enum, 's' sequence, 'v' view */
    char *name, *q;
    char *def;   /* view: its definition (PostgreSQL: the query; SQLite: CREATE VIEW);
                    sequence: "AS bigint INCREMENT BY ..." */
    char *norm;  /* view: what is compared */
    char *owned; /* sequence: "table.column" it is owned by, quoted, or NULL */
    char **vals; /* enum: labels as quoted literals, in order */
    size_t nvals;
} gen_obj;

typedef struct gen_model {
    gen_table *t;
    size_t nt, capt;
    gen_obj *o;
    size_t no, capo;
    /* objects the plan cannot express, "what\037key" each (what names it,
       key is its content), sorted; diff refuses when the sides differ */
    char **unsup;
    size_t nunsup, capunsup;
    int oom;
} gen_model;

void gen_model_release(gen_model *m);
gen_table *gen_model_add_table(gen_model *m, const char *name, const char *q);
gen_col *gen_table_add_col(gen_table *t);
gen_item *gen_table_add_item(gen_table *t, char kind, const char *name, const char *q, const char *def);
gen_obj *gen_model_add_obj(gen_model *m, char kind, const char *name, const char *q);
gen_table *gen_find_table(const gen_model *m, const char *name);
gen_obj *gen_find_obj(const gen_model *m, char kind, const char *name);
const gen_col *gen_find_col(const gen_table *t, const char *name);

/* Parts of a plan, in the order they run; each becomes one migration file. */
enum { GEN_PART_PRE = 0, GEN_PART_TX = 1, GEN_PART_POST = 2, GEN_NPARTS = 3 };

typedef struct gen_stmt {
    int part;
    const char *kind;        /* "create table", "add column", ... (static) */
    char *sql;               /* without the final ';' */
    char *loses;             /* destructive: what data it loses; else NULL */
    const char *lint_ignore; /* static: "RULE -- reason" written after it, or NULL */
} gen_stmt;

typedef struct gen_rename {
    char *table; /* the table of a column rename, or NULL for a table rename */
    char *from, *to;
} gen_rename;

typedef struct gen_opts {
    int down;            /* writing a down: one transactional part, no CONCURRENTLY */
    int no_concurrently; /* PostgreSQL: plain CREATE INDEX on existing tables */
    int enum_rebuild;    /* down, PostgreSQL: enum values added back by rebuilding the type (one
                            transaction, the values usable at once), not ADD VALUE */
    const gen_rename *renames;
    size_t nrenames;
} gen_opts;

typedef struct gen_plan {
    gen_stmt *s;
    size_t n, cap;
    buf notes;    /* lines: a drop and an add of the same shape (a possible rename) */
    char *verify; /* owned: the up's verify section (SQLite rebuilds), or NULL */
    int oom;
} gen_plan;

void gen_plan_release(gen_plan *p);
/* Appends a statement (printf-style); loses may be NULL. */
void gen_emit(gen_plan *p, int part, const char *kind, const char *loses, const char *fmt, ...)
    ATTR_PRINTF(5, 6);
/* 1 when text holds name as a whole identifier (any case; quoted or not). */
int gen_mentions(const char *text, const char *name);
/* The rename of table `table` (or of a table when table is NULL) from `from`. */
const gen_rename *gen_rename_of(const gen_opts *o, const char *table, const char *from);
/* The name `name` (a column of `table`, or a table when table is NULL) has
   after the renames. */
const char *gen_new_name(const gen_opts *o, const char *table, const char *name);
/* Sets mark[i] for every view of m that reads (mentions) a marked view,
   until no more are added. */
void gen_views_spread(const gen_model *m, int *mark);
/* Emits the views m->o[i] with need[i] set, each after the needed views it
   reads (a cycle of mentions: the rest in name order); clears need.
   as_query: the definition is a query (CREATE VIEW q AS is prepended),
   else the whole CREATE VIEW statement. */
void gen_views_create(gen_plan *p, const gen_model *m, int *need, int as_query);

/* The engines' ops. */
strata_code pg_gen_read(drv *d, const char *table, gen_model *m, strata_error *err);
strata_code pg_gen_plan(const gen_model *from, const gen_model *to, const gen_opts *o, gen_plan *p,
                        strata_error *err);
strata_code pg_gen_canon(drv *d, const char *table, const char *def, char **out, strata_error *err);
strata_code sq_gen_read(drv *d, const char *table, gen_model *m, strata_error *err);
strata_code sq_gen_plan(const gen_model *from, const gen_model *to, const gen_opts *o, gen_plan *p,
                        strata_error *err);

#endif
