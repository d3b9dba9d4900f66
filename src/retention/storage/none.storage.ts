import { prefixMapping, type RecordOnlyArchive } from './archive-storage';

/**
 * No archive storage configured (the zero-setup default): archiving is recorded in the database only.
 * The archive URI is derived from the artifact URI by ARCHIVE_URI_PREFIX; the artifact stays where it is.
 */
export class RecordOnlyStorage implements RecordOnlyArchive {
  readonly kind = 'none' as const;
  readonly movesArtifacts = false as const;

  constructor(private readonly uriPrefix: string) {}

  recordedArchiveUri(artifactUri: string): string {
    return prefixMapping(this.uriPrefix, artifactUri);
  }
}
