/* layer shim: the testsolv loop over libsolv testcases, and rpm evr comparison. */
#include "shim.h"

/* testsolv: errors go to stderr (our log), everything else to stdout (the result text). */
static void testcase_cb(Pool *pool, void *data, int type, const char *str)
{
  if ((type & (SOLV_FATAL | SOLV_ERROR)) != 0 || (pool->debugmask & SOLV_DEBUG_TO_STDERR) != 0)
    log_cb(pool, 0, type, str);
  else
    buf_str((Buf *)data, str);
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

