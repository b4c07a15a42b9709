/**
 * Where a base comes from. Each kind of base is one implementation of BaseSource; the engine
 * asks it for the newest base commit and records its refspec in the origin. Later kinds (an
 * OSTree remote over HTTP, an OCI image) are further implementations, not new branches in the
 * engine.
 */
import type { Report } from '../../report.js';
import type { Checksum, Store } from '../../store/index.js';

export interface BaseSource {
  /**
   * `recipe`: composed from packages; `ostree-local`: a ref of an OSTree repo on this machine;
   * `ostree-remote`: a ref of an archive repo served over HTTP (ostree-remote.ts); `oci`: an
   * OCI image (oci.ts).
   */
  readonly kind: 'recipe' | 'ostree-local' | 'ostree-remote' | 'oci';
  /** The base as the origin records it (`baserefspec`). */
  readonly refspec: string;
  /**
   * Make the newest commit of this base available in `store` and return it; null when the
   * transaction itself composes the base (a recipe).
   */
  fetch(ctx: { store: Store; report: Report }): Promise<Checksum | null>;
}
