/*
 * layer's C shim over libsolv: a small, batch-oriented API for JavaScript.
 *
 * Why a shim: calling libsolv function-by-function from JS would cross the wasm
 * boundary once per dependency and leak C idioms (Queues, Ids, flag words) into
 * TypeScript. Here each verb takes one buffer and returns one buffer:
 *   - packages come in as a flat list of NUL-terminated, tag-prefixed strings;
 *   - jobs come in the same way;
 *   - results go out as tab-separated lines the TypeScript side decodes.
 * Everything returned is malloc'd; JS frees it with ly_free(). The last
 * returned length is available through ly_last_len() for binary outputs.
 *
 * Files: shim.c (buffers, log, pool, dependency strings), shim_repo.c (adding and writing
 * repos), shim_solve.c (jobs -> transaction/problems), shim_testcase.c (testsolv loop, evr).
 *
 * Built by wasm/build.sh together with libsolv 0.7.23 (Debian source package).
 */
#include "shim.h"
#include <unistd.h>

int last_len;

/* ---------- growable output buffer ---------- */

void buf_add(Buf *b, const char *s, int n)
{
  if (b->len + n + 1 > b->cap)
    {
      b->cap = (b->len + n + 1) * 2 + 256;
      b->s = solv_realloc(b->s, b->cap);
    }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}
void buf_str(Buf *b, const char *s) { buf_add(b, s ? s : "", strlen(s ? s : "")); }
void buf_int(Buf *b, long long v) { char t[32]; int n = sprintf(t, "%lld", v); buf_add(b, t, n); }
/* Field separators are structural: strip any tab/newline a string might carry. */
void buf_text(Buf *b, const char *s)
{
  for (; s && *s; s++)
    {
      char c = (*s == '\t' || *s == '\n') ? ' ' : *s;
      buf_add(b, &c, 1);
    }
}
char *buf_done(Buf *b)
{
  if (!b->s)
    buf_add(b, "", 0);
  last_len = b->len;
  return b->s;
}

API int ly_last_len(void) { return last_len; }
API void *ly_malloc(int n) { return solv_malloc(n > 0 ? n : 1); }
API void ly_free(void *p) { solv_free(p); }

/* ---------- pool ---------- */

/*
 * libsolv prints debug/error text with vprintf/vfprintf; under NODERAWFS that would reach the
 * host's real stdout/stderr. The engine never writes there, so every pool routes its messages
 * into this bounded log, which JS drains with ly_take_log().
 */
static Buf msglog;

void log_cb(Pool *pool, void *data, int type, const char *str)
{
  (void)pool; (void)data; (void)type;
  if (msglog.len > 65536)
    return;
  buf_str(&msglog, str);
}


API char *ly_take_log(void)
{
  char *s = buf_done(&msglog);
  msglog.s = 0;
  msglog.len = msglog.cap = 0;
  return s;
}

API Pool *ly_pool_create(const char *arch)
{
  Pool *pool = pool_create();
  pool_setdebugcallback(pool, log_cb, 0);
  pool_setdebugmask(pool, SOLV_ERROR);
  /* Debian's libsolv is built with MULTI_SEMANTICS and a deb default: we solve rpms. */
  pool_setdisttype(pool, DISTTYPE_RPM);
  pool_setarch(pool, arch);
  /*
   * No whatprovidesaux: an index that only speeds up matching versioned dependencies against
   * each provider's provides (pool_addrelproviders scans them without it, with the same
   * result). At 63k packages it is ~1.4 MB of heap in every command and in every snapshot,
   * for microseconds of the few lookups a solve makes.
   */
  pool_set_flag(pool, POOL_FLAG_NOWHATPROVIDESAUX, 1);
  return pool;
}

API void ly_pool_free(Pool *pool) { pool_free(pool); }

API const char *ly_pool_errstr(Pool *pool) { return pool_errstr(pool); }

API void ly_pool_set_installed(Pool *pool, Repo *repo) { pool_set_installed(pool, repo); }

/*
 * Reads every repo's paged data (file lists are stored "vertical": libsolv leaves them in the
 * .solv file and reads pages on demand through a descriptor it keeps) into the heap, then closes
 * those descriptors and forgets them. Called before the heap is saved as a pool snapshot
 * (src/solver/snapshot.ts): a restored heap would otherwise read pages through descriptor
 * numbers of the process that saved it, which in the restoring one are closed (EBADF: "mapping
 * pread", and the file provides on those pages lost) or given to another file, and freeing the
 * restored pool would close that other file's descriptor. Returns 0, leaving the descriptors,
 * when a page could not be read: then no snapshot is saved.
 */
API int ly_pool_disable_paging(Pool *pool)
{
  int i, rdid, ok = 1;
  Repo *repo;
  Repodata *data;
  FOR_REPOS(i, repo)
    {
      repo_disable_paging(repo);
      FOR_REPODATAS(repo, rdid, data)
        {
          Repopagestore *store = &data->store;
          /* All mapped and consecutive after a good load: this returns at once. */
          if (store->num_pages && !repopagestore_load_page_range(store, 0, store->num_pages - 1))
            ok = 0;
        }
    }
  if (!ok)
    return 0;
  FOR_REPOS(i, repo)
    FOR_REPODATAS(repo, rdid, data)
      if (data->store.pagefd != -1)
        {
          close(data->store.pagefd);
          data->store.pagefd = -1;
        }
  return 1;
}

/*
 * Must run after the last repo change and before solving or selecting.
 *
 * pool_createwhatprovides frees the string hash ("XXX: should not be here!" in pool.c), and
 * the first name lookup after it (every selection_make of a job) rebuilds it by rehashing
 * every string of the pool: 152k strings, ~85 ms of Liftoff code at 63k packages, for a
 * table the load had just built. The hash only indexes strings, which createwhatprovides
 * never adds, so it is kept across the call: set aside, then put back if nothing rebuilt it
 * and no string was added meanwhile (else the set-aside copy is freed). The rel hash is left
 * to libsolv: no lookup in our solve path rebuilds it, and keeping it would add 2 MB.
 */
API void ly_pool_prepare(Pool *pool)
{
  Hashtable kept;
  Hashval mask;
  int nstrings;
  pool_addfileprovides(pool);
  kept = pool->ss.stringhashtbl;
  mask = pool->ss.stringhashmask;
  nstrings = pool->ss.nstrings;
  pool->ss.stringhashtbl = 0;
  pool->ss.stringhashmask = 0;
  pool_createwhatprovides(pool);
  if (!pool->ss.stringhashtbl && pool->ss.nstrings == nstrings)
    {
      pool->ss.stringhashtbl = kept;
      pool->ss.stringhashmask = mask;
    }
  else
    solv_free(kept);
}
/* ---------- dependencies as rpm prints them ---------- */

static int str2flags(const char *op)
{
  if (!strcmp(op, "<")) return REL_LT;
  if (!strcmp(op, "<=") || !strcmp(op, "=<")) return REL_LT | REL_EQ;
  if (!strcmp(op, "=") || !strcmp(op, "==")) return REL_EQ;
  if (!strcmp(op, ">=") || !strcmp(op, "=>")) return REL_GT | REL_EQ;
  if (!strcmp(op, ">")) return REL_GT;
  if (!strcmp(op, "<>") || !strcmp(op, "!=")) return REL_LT | REL_GT;
  return 0;
}

/* `name`, `name OP evr` or an rpm rich dependency `(a if b)`. Returns 0 on garbage. */
Id dep2id(Pool *pool, const char *s)
{
  char *copy, *name, *op, *evr, *end;
  Id id;
  int flags;

  while (*s == ' ')
    s++;
  if (*s == '(')
    return pool_parserpmrichdep(pool, s);
  copy = solv_strdup(s);
  name = copy;
  end = name + strcspn(name, " ");
  if (!*end)
    {
      id = *name ? pool_str2id(pool, name, 1) : 0;
      solv_free(copy);
      return id;
    }
  *end++ = 0;
  while (*end == ' ')
    end++;
  op = end;
  end = op + strcspn(op, " ");
  if (*end)
    *end++ = 0;
  while (*end == ' ')
    end++;
  evr = end;
  end = evr + strcspn(evr, " ");
  *end = 0;
  flags = str2flags(op);
  if (!flags || !*evr || !*name)
    id = 0;
  else
    id = pool_rel2id(pool, pool_str2id(pool, name, 1), pool_str2id(pool, evr, 1), flags, 1);
  solv_free(copy);
  return id;
}

API Id ly_dep2id(Pool *pool, const char *s) { return dep2id(pool, s); }
