-- CacheService (flyteidl2.cacheservice): task outputs by cache key, and reservations so one of several identical
-- actions computes a missing entry while the others wait. scope: "org/project/domain" (v2) or "" (v1).
-- output_literals: serialized flyteidl2.core.LiteralMap; metadata: serialized flyteidl2.cacheservice.Metadata.
CREATE TABLE cache_entries (
  scope TEXT NOT NULL,
  cache_key TEXT NOT NULL,
  output_uri TEXT NOT NULL DEFAULT '',
  output_literals BLOB NOT NULL,
  metadata BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, cache_key)
);
CREATE TABLE cache_reservations (
  scope TEXT NOT NULL,
  cache_key TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  heartbeat_ms INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, cache_key)
);
-- flyteidl2.core.CatalogCacheStatus of the action's latest attempt (ActionStatus.cache_status).
ALTER TABLE actions ADD COLUMN cache_status INTEGER NOT NULL DEFAULT 0;
