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
 * Built by wasm/build.sh together with libsolv 0.7.23 (Debian source package).
 */
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

static int last_len;

/* ---------- growable output buffer ---------- */

typedef struct { char *s; int len, cap; } Buf;

static void buf_add(Buf *b, const char *s, int n)
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
static void buf_str(Buf *b, const char *s) { buf_add(b, s ? s : "", strlen(s ? s : "")); }
static void buf_int(Buf *b, long long v) { char t[32]; int n = sprintf(t, "%lld", v); buf_add(b, t, n); }
/* Field separators are structural: strip any tab/newline a string might carry. */
static void buf_text(Buf *b, const char *s)
{
  for (; s && *s; s++)
    {
      char c = (*s == '\t' || *s == '\n') ? ' ' : *s;
      buf_add(b, &c, 1);
    }
}
static char *buf_done(Buf *b)
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

static void log_cb(Pool *pool, void *data, int type, const char *str)
{
  (void)pool; (void)data; (void)type;
  if (msglog.len > 65536)
    return;
  buf_str(&msglog, str);
}

/* testsolv: errors go to stderr (our log), everything else to stdout (the result text). */
static void testcase_cb(Pool *pool, void *data, int type, const char *str)
{
  if ((type & (SOLV_FATAL | SOLV_ERROR)) != 0 || (pool->debugmask & SOLV_DEBUG_TO_STDERR) != 0)
    log_cb(pool, 0, type, str);
  else
    buf_str((Buf *)data, str);
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
  return pool;
}

API void ly_pool_free(Pool *pool) { pool_free(pool); }

API const char *ly_pool_errstr(Pool *pool) { return pool_errstr(pool); }

API void ly_pool_set_installed(Pool *pool, Repo *repo) { pool_set_installed(pool, repo); }

/* Must run after the last repo change and before solving or selecting. */
API void ly_pool_prepare(Pool *pool)
{
  pool_addfileprovides(pool);
  pool_createwhatprovides(pool);
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
static Id dep2id(Pool *pool, const char *s)
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

/* ---------- repos ---------- */

static Repo *repo_new(Pool *pool, const char *name, int prio, int subprio)
{
  Repo *repo = repo_create(pool, name);
  repo->priority = prio;
  repo->subpriority = subprio;
  return repo;
}

static void add_file(Repodata *data, Id p, const char *path)
{
  const char *slash = strrchr(path, '/');
  Id did;
  if (!slash)
    return;
  if (slash == path)
    did = repodata_str2dir(data, "/", 1);
  else
    {
      char *dir = solv_strdup(path);
      dir[slash - path] = 0;
      did = repodata_str2dir(data, dir, 1);
      solv_free(dir);
    }
  repodata_add_dirstr(data, p, SOLVABLE_FILELIST, did, slash + 1);
}

/*
 * Record buffer: NUL-terminated strings, each led by a tag byte.
 *   P name (starts a package)  V evr  A arch
 *   p provides  r requires  R pre-requires  c conflicts  o obsoletes
 *   m recommends  g suggests  s supplements  e enhances  f file path
 *   U summary  L location  D download size  I install size  K checksum type:hex
 *   B build time  Q source rpm
 * Returns the repo, or 0 with the bad string in pool_errstr.
 */
API Repo *ly_repo_add_records(Pool *pool, const char *name, const char *buf, int len, int prio, int subprio)
{
  Repo *repo = repo_new(pool, name, prio, subprio);
  Repodata *data = repo_add_repodata(repo, 0);
  const char *p = buf, *end = buf + len;
  Solvable *s = 0;
  Id sid = 0;

  while (p < end)
    {
      char tag = *p;
      const char *v = p + 1;
      int n = strlen(p);
      Id id;
      p += n + 1;
      if (tag == 'P')
        {
          if (s && !s->arch)
            s->arch = ARCH_NOARCH;
          sid = repo_add_solvable(repo);
          s = pool->solvables + sid;
          s->name = pool_str2id(pool, v, 1);
          s->evr = ID_EMPTY;
          continue;
        }
      if (!s)
        {
          pool_error(pool, 0, "record data before the first package");
          repo_free(repo, 1);
          return 0;
        }
      switch (tag)
        {
        case 'V': s->evr = pool_str2id(pool, v, 1); continue;
        case 'A': s->arch = pool_str2id(pool, v, 1); continue;
        case 'f': add_file(data, sid, v); continue;
        case 'U': repodata_set_str(data, sid, SOLVABLE_SUMMARY, v); continue;
        case 'L': repodata_set_location(data, sid, 0, 0, v); continue;
        case 'D': repodata_set_num(data, sid, SOLVABLE_DOWNLOADSIZE, strtoull(v, 0, 10)); continue;
        case 'I': repodata_set_num(data, sid, SOLVABLE_INSTALLSIZE, strtoull(v, 0, 10)); continue;
        case 'B': repodata_set_num(data, sid, SOLVABLE_BUILDTIME, strtoull(v, 0, 10)); continue;
        case 'Q': repodata_set_sourcepkg(data, sid, v); continue;
        case 'K':
          {
            const char *colon = strchr(v, ':');
            char *t = solv_strdup(v);
            Id type;
            if (colon)
              t[colon - v] = 0;
            type = colon ? solv_chksum_str2type(t) : 0;
            solv_free(t);
            if (type)
              repodata_set_checksum(data, sid, SOLVABLE_CHECKSUM, type, colon + 1);
            continue;
          }
        default: break;
        }
      id = dep2id(pool, v);
      if (!id)
        {
          pool_error(pool, 0, "%s: cannot parse dependency '%s'", pool_id2str(pool, s->name), v);
          repo_free(repo, 1);
          return 0;
        }
      switch (tag)
        {
        case 'p': s->provides = repo_addid_dep(repo, s->provides, id, 0); break;
        case 'r': s->requires = repo_addid_dep(repo, s->requires, id, 0); break;
        case 'R': s->requires = repo_addid_dep(repo, s->requires, id, SOLVABLE_PREREQMARKER); break;
        case 'c': s->conflicts = repo_addid_dep(repo, s->conflicts, id, 0); break;
        case 'o': s->obsoletes = repo_addid_dep(repo, s->obsoletes, id, 0); break;
        case 'm': s->recommends = repo_addid_dep(repo, s->recommends, id, 0); break;
        case 'g': s->suggests = repo_addid_dep(repo, s->suggests, id, 0); break;
        case 's': s->supplements = repo_addid_dep(repo, s->supplements, id, 0); break;
        case 'e': s->enhances = repo_addid_dep(repo, s->enhances, id, 0); break;
        default:
          pool_error(pool, 0, "unknown record tag '%c'", tag);
          repo_free(repo, 1);
          return 0;
        }
    }
  if (s && !s->arch)
    s->arch = ARCH_NOARCH;
  /* rpm semantics: every package provides its own name = evr. */
  FOR_REPO_SOLVABLES(repo, sid, s)
    if (s->name != ID_EMPTY && s->arch != ARCH_SRC && s->arch != ARCH_NOSRC)
      s->provides = repo_addid_dep(repo, s->provides, pool_rel2id(pool, s->name, s->evr, REL_EQ, 1), 0);
  repo_internalize(repo);
  return repo;
}

API Repo *ly_repo_add_solv(Pool *pool, const char *name, const unsigned char *bytes, int len, int prio, int subprio)
{
  Repo *repo = repo_new(pool, name, prio, subprio);
  FILE *fp = fmemopen((void *)bytes, len, "r");
  if (!fp || repo_add_solv(repo, fp, 0))
    {
      if (fp)
        fclose(fp);
      else
        pool_error(pool, 0, "fmemopen failed");
      repo_free(repo, 1);
      return 0;
    }
  fclose(fp);
  return repo;
}

API Repo *ly_repo_add_rpmmd(Pool *pool, const char *name, const unsigned char *primary, int plen,
                           const unsigned char *filelists, int flen, int prio, int subprio)
{
  Repo *repo = repo_new(pool, name, prio, subprio);
  FILE *fp = fmemopen((void *)primary, plen, "r");
  if (!fp || repo_add_rpmmd(repo, fp, 0, REPO_NO_INTERNALIZE))
    goto fail;
  fclose(fp);
  fp = 0;
  if (filelists && flen)
    {
      fp = fmemopen((void *)filelists, flen, "r");
      if (!fp || repo_add_rpmmd(repo, fp, 0, REPO_EXTEND_SOLVABLES | REPO_NO_INTERNALIZE))
        goto fail;
      fclose(fp);
    }
  repo_internalize(repo);
  return repo;
fail:
  if (fp)
    fclose(fp);
  repo_free(repo, 1);
  return 0;
}

API int ly_repo_size(Repo *repo) { return repo->nsolvables; }

/* Every package of the repo as "K id name evr arch repo" lines (the ly_solve package format). */
API char *ly_repo_list(Repo *repo)
{
  Buf b = {0};
  Pool *pool = repo->pool;
  Id p;
  Solvable *s;
  FOR_REPO_SOLVABLES(repo, p, s)
    {
      buf_str(&b, "K\t"); buf_int(&b, p);
      buf_str(&b, "\t"); buf_text(&b, pool_id2str(pool, s->name));
      buf_str(&b, "\t"); buf_text(&b, pool_id2str(pool, s->evr));
      buf_str(&b, "\t"); buf_text(&b, pool_id2str(pool, s->arch));
      buf_str(&b, "\t"); buf_text(&b, repo->name);
      buf_str(&b, "\n");
    }
  return buf_done(&b);
}

API void ly_repo_free(Repo *repo) { repo_free(repo, 1); }

/* The repo as .solv bytes (length via ly_last_len), or 0 on failure. */
API char *ly_repo_write(Repo *repo)
{
  char *out = 0;
  size_t len = 0;
  FILE *fp = open_memstream(&out, &len);
  if (!fp)
    return 0;
  if (repo_write(repo, fp))
    {
      fclose(fp);
      free(out);
      return 0;
    }
  fclose(fp);
  last_len = (int)len;
  /* open_memstream memory comes from malloc, as does solv_malloc: ly_free works. */
  return out;
}

/* ---------- solving ---------- */

/* Job buffer: per job five NUL-terminated strings: action, jobflags, selector kind, arg1, arg2. */
enum { A_INSTALL = 1, A_ERASE, A_UPDATE, A_DISTUPGRADE, A_LOCK, A_FAVOR, A_DISFAVOR, A_EXCLUDE };
enum { F_CLEANDEPS = 1, F_WEAK = 2, F_FORCEBEST = 4 };
enum { S_ALL = 0, S_NAME, S_PROVIDES, S_NEVRA, S_SPEC, S_PACKAGE };
/* Solver flags word (bit numbers are part of the JS contract in native.ts). */
enum { SF_ALLOW_DOWNGRADE = 1, SF_ALLOW_UNINSTALL = 2, SF_ALLOW_VENDORCHANGE = 4, SF_IGNORE_WEAK = 8 };

static void emit_pkg(Buf *b, Pool *pool, Map *seen, Id p)
{
  Solvable *s = pool->solvables + p;
  if (MAPTST(seen, p))
    return;
  MAPSET(seen, p);
  buf_str(b, "K\t"); buf_int(b, p);
  buf_str(b, "\t"); buf_text(b, pool_id2str(pool, s->name));
  buf_str(b, "\t"); buf_text(b, pool_id2str(pool, s->evr));
  buf_str(b, "\t"); buf_text(b, pool_id2str(pool, s->arch));
  buf_str(b, "\t"); buf_text(b, s->repo ? s->repo->name : "");
  buf_str(b, "\n");
}

/* Resolve one selector into a selection queue; empty queue means "no match". */
static void select_pkgs(Pool *pool, int kind, const char *a1, const char *a2, Queue *sel)
{
  int flags;
  queue_empty(sel);
  switch (kind)
    {
    case S_ALL:
      queue_push2(sel, SOLVER_SOLVABLE_ALL, 0);
      return;
    case S_NAME:
      selection_make(pool, sel, a1, SELECTION_NAME);
      return;
    case S_PROVIDES:
      flags = SELECTION_PROVIDES | SELECTION_REL;
      if (*a1 == '/')
        flags |= SELECTION_FILELIST;
      if (*a1 == '(')
        {
          Id id = dep2id(pool, a1);
          if (id && pool_whatprovides(pool, id))
            queue_push2(sel, SOLVER_SOLVABLE_PROVIDES, id);
          return;
        }
      selection_make(pool, sel, a1, flags);
      return;
    case S_NEVRA:
      selection_make(pool, sel, a1, SELECTION_CANON);
      return;
    case S_SPEC:
      flags = SELECTION_NAME | SELECTION_PROVIDES | SELECTION_CANON | SELECTION_DOTARCH | SELECTION_REL | SELECTION_GLOB;
      if (*a1 == '/')
        flags |= SELECTION_FILELIST;
      selection_make(pool, sel, a1, flags);
      return;
    case S_PACKAGE:
      {
        Id p;
        Solvable *s;
        FOR_POOL_SOLVABLES(p)
          {
            s = pool->solvables + p;
            if (s->repo && !strcmp(s->repo->name, a1) && !strcmp(pool_solvable2str(pool, s), a2))
              {
                queue_push2(sel, SOLVER_SOLVABLE, p);
                return;
              }
          }
        return;
      }
    }
}

static const char *selector_text(int kind, const char *a1, const char *a2)
{
  static char t[512];
  if (kind == S_PACKAGE)
    snprintf(t, sizeof(t), "%s (from %s)", a2, a1);
  else
    snprintf(t, sizeof(t), "%s", a1);
  return t;
}

/*
 * Run jobs; returns result lines:
 *   K id name evr arch repo     package table (each referenced solvable once)
 *   T kind reason id obs,ids     transaction step in install order
 *   X action text                a job selector matched nothing
 *   P text / U type source target dep text / S / E text   problems, rules, solutions, elements
 */
API char *ly_solve(Pool *pool, const char *jobbuf, int joblen, int sflags)
{
  Buf b = {0};
  Queue job, sel, q;
  Map seen, excluded;
  int i, nexcluded = 0, nomatch = 0;
  const char *p = jobbuf, *end = jobbuf + joblen;
  Solver *solv;
  Map *oldconsidered = pool->considered;

  queue_init(&job);
  queue_init(&sel);
  queue_init(&q);
  map_init(&seen, pool->nsolvables);
  map_init(&excluded, 0);

  while (p < end)
    {
      const char *f[5];
      int action, jflags, kind, how = 0;
      for (i = 0; i < 5; i++)
        {
          f[i] = p;
          p += strlen(p) + 1;
        }
      action = atoi(f[0]);
      jflags = atoi(f[1]);
      kind = atoi(f[2]);
      select_pkgs(pool, kind, f[3], f[4], &sel);
      if (!sel.count)
        {
          /* erasing something absent is a no-op for rpm/dnf too; everything else must match */
          if (action != A_ERASE && action != A_EXCLUDE)
            {
              buf_str(&b, "X\t"); buf_int(&b, action); buf_str(&b, "\t");
              buf_text(&b, selector_text(kind, f[3], f[4])); buf_str(&b, "\n");
              nomatch = 1;
            }
          continue;
        }
      if (action == A_EXCLUDE)
        {
          Queue pkgs;
          queue_init(&pkgs);
          selection_solvables(pool, &sel, &pkgs);
          if (!excluded.size)
            map_grow(&excluded, pool->nsolvables);
          for (i = 0; i < pkgs.count; i++)
            if (!pool->installed || pool->solvables[pkgs.elements[i]].repo != pool->installed)
              {
                MAPSET(&excluded, pkgs.elements[i]);
                nexcluded++;
              }
          queue_free(&pkgs);
          continue;
        }
      switch (action)
        {
        case A_INSTALL: how = SOLVER_INSTALL; break;
        case A_ERASE: how = SOLVER_ERASE; break;
        case A_UPDATE: how = SOLVER_UPDATE; break;
        case A_DISTUPGRADE: how = SOLVER_DISTUPGRADE; break;
        case A_LOCK: how = SOLVER_LOCK; break;
        case A_FAVOR: how = SOLVER_FAVOR; break;
        case A_DISFAVOR: how = SOLVER_DISFAVOR; break;
        default: continue;
        }
      if (jflags & F_CLEANDEPS)
        how |= SOLVER_CLEANDEPS;
      if (jflags & F_WEAK)
        how |= SOLVER_WEAK;
      if ((jflags & F_FORCEBEST) && (action == A_INSTALL || action == A_UPDATE || action == A_DISTUPGRADE))
        how |= SOLVER_FORCEBEST;
      for (i = 0; i < sel.count; i += 2)
        queue_push2(&job, sel.elements[i] | how, sel.elements[i + 1]);
    }

  if (nomatch)
    {
      queue_free(&job); queue_free(&sel); queue_free(&q);
      map_free(&seen); map_free(&excluded);
      return buf_done(&b);
    }

  if (nexcluded)
    {
      /* considered = everything but the excluded: excluded packages become uninstallable */
      Map *cons = solv_calloc(1, sizeof(Map));
      map_init(cons, pool->nsolvables);
      map_setall(cons);
      map_subtract(cons, &excluded);
      pool->considered = cons;
    }

  solv = solver_create(pool);
  solver_set_flag(solv, SOLVER_FLAG_ALLOW_DOWNGRADE, (sflags & SF_ALLOW_DOWNGRADE) != 0);
  solver_set_flag(solv, SOLVER_FLAG_ALLOW_UNINSTALL, (sflags & SF_ALLOW_UNINSTALL) != 0);
  solver_set_flag(solv, SOLVER_FLAG_ALLOW_VENDORCHANGE, (sflags & SF_ALLOW_VENDORCHANGE) != 0);
  solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, (sflags & SF_IGNORE_WEAK) != 0);

  if (solver_solve(solv, &job) == 0)
    {
      Transaction *trans = solver_create_transaction(solv);
      int mode = SOLVER_TRANSACTION_SHOW_ACTIVE | SOLVER_TRANSACTION_SHOW_OBSOLETES |
                 SOLVER_TRANSACTION_SHOW_MULTIINSTALL | SOLVER_TRANSACTION_CHANGE_IS_REINSTALL;
      transaction_order(trans, 0);
      for (i = 0; i < trans->steps.count; i++)
        {
          Id sp = trans->steps.elements[i], info = 0, type;
          int reason, j;
          type = transaction_type(trans, sp, mode);
          if (type == SOLVER_TRANSACTION_IGNORE)
            continue;
          reason = solver_describe_decision(solv, sp, &info);
          /* a job rule that decided a package means the user asked for it */
          if ((reason == SOLVER_REASON_UNIT_RULE || reason == SOLVER_REASON_RESOLVE_JOB) && info > 0 &&
              solver_ruleclass(solv, info) == SOLVER_RULE_JOB)
            reason = SOLVER_REASON_RESOLVE_JOB;
          emit_pkg(&b, pool, &seen, sp);
          queue_empty(&q);
          if (type != SOLVER_TRANSACTION_ERASE && type != SOLVER_TRANSACTION_INSTALL)
            transaction_all_obs_pkgs(trans, sp, &q);
          for (j = 0; j < q.count; j++)
            emit_pkg(&b, pool, &seen, q.elements[j]);
          buf_str(&b, "T\t"); buf_int(&b, type);
          buf_str(&b, "\t"); buf_int(&b, reason);
          buf_str(&b, "\t"); buf_int(&b, sp);
          buf_str(&b, "\t");
          for (j = 0; j < q.count; j++)
            {
              if (j)
                buf_str(&b, ",");
              buf_int(&b, q.elements[j]);
            }
          buf_str(&b, "\n");
        }
      transaction_free(trans);
    }
  else
    {
      Id problem = 0, solution, element, rp, ep;
      while ((problem = solver_next_problem(solv, problem)) != 0)
        {
          buf_str(&b, "P\t"); buf_text(&b, solver_problem2str(solv, problem)); buf_str(&b, "\n");
          queue_empty(&q);
          solver_findallproblemrules(solv, problem, &q);
          for (i = 0; i < q.count; i++)
            {
              Id source, target, dep;
              SolverRuleinfo type = solver_ruleinfo(solv, q.elements[i], &source, &target, &dep);
              const char *text = solver_problemruleinfo2str(solv, type, source, target, dep);
              /* job rules carry a job index, job flags and a job "what" in these slots, best
                 rules a job index in target: only report real packages and dependencies */
              if ((type & SOLVER_RULE_TYPEMASK) == SOLVER_RULE_JOB)
                {
                  source = target = 0;
                  if (type == SOLVER_RULE_JOB || type == SOLVER_RULE_JOB_UNSUPPORTED)
                    dep = 0;
                }
              else if (type == SOLVER_RULE_BEST)
                target = 0;
              if (source > 0) emit_pkg(&b, pool, &seen, source);
              if (target > 0) emit_pkg(&b, pool, &seen, target);
              buf_str(&b, "U\t"); buf_int(&b, type);
              buf_str(&b, "\t"); buf_int(&b, source > 0 ? source : 0);
              buf_str(&b, "\t"); buf_int(&b, target > 0 ? target : 0);
              buf_str(&b, "\t"); buf_text(&b, dep ? pool_dep2str(pool, dep) : "");
              buf_str(&b, "\t"); buf_text(&b, text);
              buf_str(&b, "\n");
            }
          solution = 0;
          while ((solution = solver_next_solution(solv, problem, solution)) != 0)
            {
              buf_str(&b, "S\n");
              element = 0;
              while ((element = solver_next_solutionelement(solv, problem, solution, element, &ep, &rp)) != 0)
                {
                  buf_str(&b, "E\t"); buf_text(&b, solver_solutionelement2str(solv, ep, rp)); buf_str(&b, "\n");
                }
            }
        }
    }
  solver_free(solv);
  if (nexcluded)
    {
      map_free(pool->considered);
      solv_free(pool->considered);
      pool->considered = oldconsidered;
    }
  queue_free(&job); queue_free(&sel); queue_free(&q);
  map_free(&seen); map_free(&excluded);
  return buf_done(&b);
}

/* ---------- testcases and evr ---------- */

/*
 * testsolv -r <path>: read each job block of a libsolv testcase, solve it and
 * append testcase_solverresult text (with "test N:" headers for multi-job files),
 * exactly like libsolv's tools/testsolv.c. Returns 0 when the testcase cannot be read.
 */
API char *ly_run_testcase(const char *path, int *exitcode)
{
  Buf b = {0};
  Pool *pool = pool_create();
  FILE *fp;
  int multijob = 0;
  Solver *reusesolv = 0;

  *exitcode = 0;
  /* testsolv reports all errors; we keep them in the log instead of printing them */
  pool_setdebugcallback(pool, testcase_cb, &b);
  pool_setdebugmask(pool, pool->debugmask | SOLV_ERROR);
  fp = fopen(path, "r");
  if (!fp)
    {
      pool_free(pool);
      *exitcode = 2;
      return 0;
    }
  while (!feof(fp))
    {
      Queue job;
      char *result = 0, *myresult;
      int resultflags = 0;
      Solver *solv;
      queue_init(&job);
      solv = testcase_read(pool, fp, path, &job, &result, &resultflags);
      if (!solv)
        {
          queue_free(&job);
          *exitcode = resultflags == 77 ? 77 : 1;
          break;
        }
      if (reusesolv)
        {
          solver_free(solv);
          solv = reusesolv;
          reusesolv = 0;
        }
      if (!multijob && !feof(fp))
        multijob = 1;
      if (multijob)
        {
          char t[32];
          sprintf(t, "test %d:\n", multijob++);
          buf_str(&b, t);
        }
      solver_solve(solv, &job);
      if ((resultflags & ~TESTCASE_RESULT_REUSE_SOLVER) == 0)
        resultflags |= TESTCASE_RESULT_TRANSACTION | TESTCASE_RESULT_PROBLEMS;
      myresult = testcase_solverresult(solv, resultflags);
      buf_str(&b, myresult);
      solv_free(myresult);
      solv_free(result);
      queue_free(&job);
      if ((resultflags & TESTCASE_RESULT_REUSE_SOLVER) != 0 && !feof(fp))
        reusesolv = solv;
      else
        solver_free(solv);
    }
  if (reusesolv)
    solver_free(reusesolv);
  if (pool->considered)
    {
      map_free(pool->considered);
      pool->considered = solv_free(pool->considered);
    }
  pool_free(pool);
  fclose(fp);
  return buf_done(&b);
}

/* rpm version comparison (epoch:version-release, with ~ and ^). */
API int ly_evrcmp(Pool *pool, const char *a, const char *b)
{
  return pool_evrcmp_str(pool, a, b, EVRCMP_COMPARE);
}
