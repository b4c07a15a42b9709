/*
 * Shared declarations of layer's C shim over libsolv (see shim.c for the overview).
 */
#ifndef LAYER_SHIM_H
#define LAYER_SHIM_H
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <emscripten/emscripten.h>

#include "pool.h"
#include "poolarch.h"
#include "repo.h"
#include "repodata.h"
#include "repo_solv.h"
#include "repo_write.h"
#include "solver.h"
#include "solverdebug.h"
#include "selection.h"
#include "transaction.h"
#include "evr.h"
#include "chksum.h"
#include "testcase.h"
#include "repo_rpmmd.h"
#include "pool_parserpmrichdep.h"

#define API EMSCRIPTEN_KEEPALIVE

/* growable output buffer: every verb returns one malloc'd buffer JS decodes and frees */
typedef struct { char *s; int len, cap; } Buf;
void buf_add(Buf *b, const char *s, int n);
void buf_str(Buf *b, const char *s);
void buf_int(Buf *b, long long v);
/* append text with tabs/newlines flattened: they are the field/record separators */
void buf_text(Buf *b, const char *s);
/* finish a buffer: records its length for ly_last_len() and returns the string */
char *buf_done(Buf *b);

/* length of the last returned buffer (ly_last_len) */
extern int last_len;

/* libsolv message sink (see shim.c) */
void log_cb(Pool *pool, void *data, int type, const char *str);
/* `name`, `name OP evr` or an rpm rich dependency; 0 on garbage */
Id dep2id(Pool *pool, const char *s);
/* "K id name evr arch repo" line for solvable p, once per `seen` map */
void emit_pkg(Buf *b, Pool *pool, Map *seen, Id p);

#endif
