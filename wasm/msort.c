/*
 * qsort_r for libsolv's solv_sort(), glibc argument order (comparator, then its argument),
 * which libsolv's util.c calls directly when it believes it is on glibc/newlib (build.sh
 * compiles util.c so), saving a trampoline per comparison.
 *
 * Why our own: emscripten's musl has no qsort_r, and libsolv's fallback (src/qsort_r.c, a
 * BSD quicksort) is not stable. Native libsolv on Debian sorts with glibc's qsort_r, which is
 * a stable merge sort; any stable sort yields the very same order for a given comparator, so
 * ties (equal-ranked candidates, same-name packages) come out exactly as in native testsolv.
 * A merge sort also makes fewer comparator calls, and the comparators are the expensive part.
 *
 * Written for layer; the algorithm is the textbook top-down merge sort with one scratch buffer.
 */
#include <stdlib.h>
#include <string.h>

typedef int (*cmp_fn)(const void *, const void *, void *);

struct msort {
  size_t size;
  cmp_fn cmp;
  void *thunk;
  char *tmp;
};

static void copy_elem(char *dst, const char *src, size_t size)
{
  if (size == 4)
    memcpy(dst, src, 4);
  else if (size == 8)
    memcpy(dst, src, 8);
  else
    memcpy(dst, src, size);
}

/* Sort b[0..n) in place, using m->tmp (room for n elements) as scratch. */
static void msort_rec(struct msort *m, char *b, size_t n)
{
  size_t n1, n2, size = m->size;
  char *b1, *b2, *t;

  if (n <= 1)
    return;
  if (n <= 8)
    {
      /* insertion sort: stable, and cheaper than recursing on tiny runs */
      size_t i, j;
      for (i = 1; i < n; i++)
        {
          j = i;
          while (j > 0 && m->cmp(b + (j - 1) * size, b + i * size, m->thunk) > 0)
            j--;
          if (j != i)
            {
              copy_elem(m->tmp, b + i * size, size);
              memmove(b + (j + 1) * size, b + j * size, (i - j) * size);
              copy_elem(b + j * size, m->tmp, size);
            }
        }
      return;
    }
  n1 = n / 2;
  n2 = n - n1;
  b1 = b;
  b2 = b + n1 * size;
  msort_rec(m, b1, n1);
  msort_rec(m, b2, n2);
  /* already in order: common for libsolv's mostly-sorted id arrays */
  if (m->cmp(b2 - size, b2, m->thunk) <= 0)
    return;
  t = m->tmp;
  while (n1 > 0 && n2 > 0)
    {
      /* <= keeps equal elements in their original order (stability) */
      if (m->cmp(b1, b2, m->thunk) <= 0)
        {
          copy_elem(t, b1, size);
          b1 += size;
          n1--;
        }
      else
        {
          copy_elem(t, b2, size);
          b2 += size;
          n2--;
        }
      t += size;
    }
  if (n1 > 0)
    memcpy(t, b1, n1 * size);
  /* the rest of b2 is already in place */
  memcpy(b, m->tmp, (size_t)(t - m->tmp) + n1 * size);
}

void qsort_r(void *base, size_t nmemb, size_t size, cmp_fn cmp, void *thunk)
{
  struct msort m;
  if (nmemb < 2 || !size)
    return;
  m.size = size;
  m.cmp = cmp;
  m.thunk = thunk;
  m.tmp = malloc(nmemb * size);
  if (!m.tmp)
    abort();
  msort_rec(&m, base, nmemb);
  free(m.tmp);
}
