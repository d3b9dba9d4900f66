import type { ArchiveStorage } from './archive-storage';
import { prefixMapping } from './archive-storage';

/**
 * No archive storage configured (the zero-setup default): archiving is recorded in the database only.
 * The archive URI is derived from the artifact URI by ARCHIVE_URI_PREFIX; the artifact stays where it is.
 */
export class RecordOnlyStorage implements ArchiveStorage {
  readonly kind = 'none' as const;
  readonly movesArtifacts = false;

  constructor(private readonly uriPrefix: string) {}

  archiveUriFor(artifactUri: string) {
    return { uri: prefixMapping(this.uriPrefix, artifactUri) };
  }

  async copyToArchive(): Promise<void> {}

  async restoreFromArchive(): Promise<void> {}

  async delete(): Promise<void> {}

  owns(): boolean {
    return false;
  }
}
