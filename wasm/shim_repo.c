/* layer shim: adding repos (records, .solv, rpm-md) and writing them back. */
#include "shim.h"
#include <errno.h>

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

/* The same from a file (the .solv cache): read through NODERAWFS in 256 KiB chunks, so the
   file is never held whole, neither in the JS heap nor in the wasm heap next to the pool it
   becomes: at 63k packages that was 2 x 10 MB of peak memory. */
API Repo *ly_repo_add_solv_file(Pool *pool, const char *name, const char *path, int prio, int subprio)
{
  Repo *repo = repo_new(pool, name, prio, subprio);
  FILE *fp = fopen(path, "r");
  if (!fp)
    {
      pool_error(pool, 0, "%s: %s", path, strerror(errno));
      repo_free(repo, 1);
      return 0;
    }
  setvbuf(fp, 0, _IOFBF, 1 << 18);
  if (repo_add_solv(repo, fp, 0))
    {
      fclose(fp);
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
  /* primary is internalized at once: the filelists join below finds packages by their
     checksum through a dataiterator, which only sees internalized data */
  if (!fp || repo_add_rpmmd(repo, fp, 0, 0))
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

/*
 * Keys no solve reads. layer takes sizes, locations, checksums and texts from its own metadata
 * caches (src/repos/), so a .solv written for solving leaves them out: for the 63k-package
 * repo the cache shrinks from 10 MB to 3.4 MB and the loaded pool (and its heap snapshot,
 * src/solver/snapshot.ts) by 5.4 MB. Names, versions, arches, vendors, dependencies and file
 * lists (file provides) stay, as do the repository-level keys.
 */
static const Id unsolved_keys[] = {
  SOLVABLE_SUMMARY, SOLVABLE_DESCRIPTION, SOLVABLE_DISTRIBUTION, SOLVABLE_AUTHORS, SOLVABLE_PACKAGER,
  SOLVABLE_GROUP, SOLVABLE_URL, SOLVABLE_KEYWORDS, SOLVABLE_LICENSE, SOLVABLE_BUILDTIME, SOLVABLE_BUILDHOST,
  SOLVABLE_EULA, SOLVABLE_CPEID, SOLVABLE_MESSAGEINS, SOLVABLE_MESSAGEDEL, SOLVABLE_INSTALLSIZE,
  SOLVABLE_DISKUSAGE, SOLVABLE_INSTALLTIME, SOLVABLE_MEDIADIR, SOLVABLE_MEDIAFILE, SOLVABLE_MEDIANR,
  SOLVABLE_MEDIABASE, SOLVABLE_DOWNLOADSIZE, SOLVABLE_SOURCEARCH, SOLVABLE_SOURCENAME, SOLVABLE_SOURCEEVR,
  SOLVABLE_HEADEREND, SOLVABLE_CHECKSUM, SOLVABLE_PKGID, SOLVABLE_HDRID, SOLVABLE_LEADSIGID,
  SOLVABLE_CHANGELOG, SOLVABLE_CHANGELOG_AUTHOR, SOLVABLE_CHANGELOG_TEXT, SOLVABLE_SIGNATUREDATA, 0
};
static const char *unsolved_prefixes[] = {
  "solvable:summary:", "solvable:description:", "solvable:messageins:", "solvable:messagedel:", "solvable:eula:", 0
};

static int solver_keyfilter(Repo *repo, Repokey *key, void *kfdata)
{
  const char *name;
  int i;
  for (i = 0; unsolved_keys[i]; i++)
    if (key->name == unsolved_keys[i])
      return KEY_STORAGE_DROPPED;
  name = pool_id2str(repo->pool, key->name);
  for (i = 0; unsolved_prefixes[i]; i++)
    if (!strncmp(name, unsolved_prefixes[i], strlen(unsolved_prefixes[i])))
      return KEY_STORAGE_DROPPED;
  return repo_write_stdkeyfilter(repo, key, kfdata);
}

/* The repo as .solv bytes (length via ly_last_len), or 0 on failure; solver_only: without the
 * keys above. */
API char *ly_repo_write(Repo *repo, int solver_only)
{
  char *out = 0;
  size_t len = 0;
  int failed;
  FILE *fp = open_memstream(&out, &len);
  if (!fp)
    return 0;
  failed = solver_only ? repo_write_filtered(repo, fp, solver_keyfilter, 0, 0) : repo_write(repo, fp);
  if (failed)
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

