/* layer shim: jobs in, transaction or problems out (see ly_solve). */
#include "shim.h"
/* solver_dep_fulfilled: libsolv's own test of a (rich) dependency against a solve's decisions */
#include "solver_private.h"

/* ---------- solving ---------- */

/* Job buffer: per job five NUL-terminated strings: action, jobflags, selector kind, arg1, arg2. */
enum { A_INSTALL = 1, A_ERASE, A_UPDATE, A_DISTUPGRADE, A_LOCK, A_FAVOR, A_DISFAVOR, A_EXCLUDE, A_MULTIVERSION, A_EXCLUDEFROMWEAK };
enum { F_CLEANDEPS = 1, F_WEAK = 2, F_FORCEBEST = 4 };
enum { S_ALL = 0, S_NAME, S_PROVIDES, S_NEVRA, S_SPEC, S_PACKAGE, S_SPEC_OBSOLETERS };
/* Solver flags word (bit numbers are part of the JS contract in native.ts). */
enum { SF_ALLOW_DOWNGRADE = 1, SF_ALLOW_UNINSTALL = 2, SF_ALLOW_VENDORCHANGE = 4, SF_IGNORE_WEAK = 8 };
/* Re-solves for unmet weak picks (exclude_unmet); a longer chain is left to rpm's check. */
enum { MAX_UNMET_ROUNDS = 16 };

void emit_pkg(Buf *b, Pool *pool, Map *seen, Id p)
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

/*
 * dnf's install by name: when a spec matches package names (not a version, arch or provide),
 * the candidates are those packages plus every package whose Obsoletes match one of them
 * (name and version, as rpm matches obsoletes), one job over all of them; libsolv's policy
 * then prefers the obsoleter (and the alphabetically first of several). Otherwise the spec
 * is selected as S_SPEC does.
 */
static int select_name_or_obsoleter(Pool *pool, const char *spec, Queue *sel)
{
  Queue named, cand;
  Id p, *obsp;
  int i;
  selection_make(pool, sel, spec, SELECTION_NAME | SELECTION_GLOB);
  if (!sel->count)
    return 0;
  queue_init(&named);
  queue_init(&cand);
  selection_solvables(pool, sel, &named);
  for (i = 0; i < named.count; i++)
    queue_push(&cand, named.elements[i]);
  FOR_POOL_SOLVABLES(p)
    {
      Solvable *s = pool->solvables + p;
      int hit = 0;
      if (!s->repo || !s->obsoletes)
        continue;
      for (obsp = s->repo->idarraydata + s->obsoletes; *obsp && !hit; obsp++)
        for (i = 0; i < named.count && !hit; i++)
          if (named.elements[i] != p && pool_match_nevr(pool, pool->solvables + named.elements[i], *obsp))
            hit = 1;
      if (hit)
        queue_pushunique(&cand, p);
    }
  if (cand.count > named.count)
    {
      queue_empty(sel);
      queue_push2(sel, SOLVER_SOLVABLE_ONE_OF, pool_queuetowhatprovides(pool, &cand));
    }
  queue_free(&named);
  queue_free(&cand);
  return 1;
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
    case S_SPEC_OBSOLETERS:
      if (select_name_or_obsoleter(pool, a1, sel))
        return;
      select_pkgs(pool, S_SPEC, a1, a2, sel);
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
 * libsolv 0.7.23 can choose a weak dependency that cannot be installed. For a rich
 * `Recommends: (A if B else C)` it builds no package rules for the condition B (it collects
 * B's literals with one sign only), so a B whose Requires nothing provides is picked to
 * satisfy the recommends, unchecked; rpm's transaction check then refuses the tree (dnf 4.14
 * fails the same way). libsolv 0.7.25 (upstream issue #527) never picks it. We reach the
 * same answer without patching libsolv: every newly installed package whose Requires the
 * result leaves unmet is excluded from weak dependencies (SOLVER_EXCLUDEFROMWEAK, dnf's
 * exclude_from_weak) and the solver runs again. A package that is unmet but required
 * stays excluded to no effect, so each round adds new packages or ends the loop.
 * `left` collects (package, first unmet Requires) pairs; returns how many were added.
 */
static int exclude_unmet(Solver *solv, Queue *job, Queue *left)
{
  Pool *pool = solv->pool;
  Id p, req, *reqp;
  int i, added = 0;

  for (p = 2; p < pool->nsolvables; p++)
    {
      Solvable *s = pool->solvables + p;
      if (solv->decisionmap[p] <= 0 || s->repo == pool->installed || !s->requires)
        continue;
      for (reqp = s->repo->idarraydata + s->requires; (req = *reqp) != 0; reqp++)
        if (req != SOLVABLE_PREREQMARKER && !solver_dep_fulfilled(solv, req))
          break;
      if (!req)
        continue;
      for (i = 0; i < left->count && left->elements[i] != p; i += 2)
        ;
      if (i < left->count)
        continue;
      queue_push2(left, p, req);
      queue_push2(job, SOLVER_SOLVABLE | SOLVER_EXCLUDEFROMWEAK, p);
      added++;
    }
  return added;
}

static Solver *new_solver(Pool *pool, int sflags)
{
  Solver *solv = solver_create(pool);
  solver_set_flag(solv, SOLVER_FLAG_ALLOW_DOWNGRADE, (sflags & SF_ALLOW_DOWNGRADE) != 0);
  solver_set_flag(solv, SOLVER_FLAG_ALLOW_UNINSTALL, (sflags & SF_ALLOW_UNINSTALL) != 0);
  solver_set_flag(solv, SOLVER_FLAG_ALLOW_VENDORCHANGE, (sflags & SF_ALLOW_VENDORCHANGE) != 0);
  solver_set_flag(solv, SOLVER_FLAG_IGNORE_RECOMMENDED, (sflags & SF_IGNORE_WEAK) != 0);
  return solv;
}

/* "W id dep" for each package exclude_unmet left out that the final result does not install. */
static void emit_left_out(Buf *b, Solver *solv, Map *seen, Queue *left)
{
  int i;
  for (i = 0; i < left->count; i += 2)
    {
      Id p = left->elements[i];
      if (solv->decisionmap[p] > 0)
        continue;
      emit_pkg(b, solv->pool, seen, p);
      buf_str(b, "W\t"); buf_int(b, p);
      buf_str(b, "\t"); buf_text(b, pool_dep2str(solv->pool, left->elements[i + 1]));
      buf_str(b, "\n");
    }
}

/*
 * Run jobs; returns result lines:
 *   K id name evr arch repo     package table (each referenced solvable once)
 *   T kind reason id obs,ids     transaction step in install order
 *   W id dep                     a weak pick left out: it requires dep, which nothing gives
 *   X action text                a job selector matched nothing
 *   P text / U type source target dep text / S / E text   problems, rules, solutions, elements
 */
API char *ly_solve(Pool *pool, const char *jobbuf, int joblen, int sflags)
{
  Buf b = {0};
  Queue job, sel, q, left;
  Map seen, excluded;
  int i, nexcluded = 0, nomatch = 0, solved, round;
  const char *p = jobbuf, *end = jobbuf + joblen;
  Solver *solv;
  Map *oldconsidered = pool->considered;

  queue_init(&job);
  queue_init(&sel);
  queue_init(&q);
  queue_init(&left);
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
          if (action != A_ERASE && action != A_EXCLUDE && action != A_MULTIVERSION && action != A_EXCLUDEFROMWEAK)
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
        case A_MULTIVERSION: how = SOLVER_MULTIVERSION; break;
        case A_EXCLUDEFROMWEAK: how = SOLVER_EXCLUDEFROMWEAK; break;
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
      queue_free(&job); queue_free(&sel); queue_free(&q); queue_free(&left);
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

  solv = new_solver(pool, sflags);
  solved = solver_solve(solv, &job) == 0;
  for (round = 0; solved && round < MAX_UNMET_ROUNDS && exclude_unmet(solv, &job, &left); round++)
    {
      solver_free(solv);
      solv = new_solver(pool, sflags);
      solved = solver_solve(solv, &job) == 0;
    }

  if (solved)
    {
      emit_left_out(&b, solv, &seen, &left);
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
  queue_free(&job); queue_free(&sel); queue_free(&q); queue_free(&left);
  map_free(&seen); map_free(&excluded);
  return buf_done(&b);
}

