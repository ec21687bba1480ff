-- SecretService's secrets, scoped to (org, project, domain); project and domain may be '' (org- or project-wide).
-- sealed_value: AES-256-GCM of the value (nonce || ciphertext || tag) under runs.secretsKey, with the scope and
-- name as associated data; the plaintext is never stored.
-- type: flyteidl2.secret.SecretType.
CREATE TABLE user_secrets (
  org TEXT NOT NULL,
  project TEXT NOT NULL,
  domain TEXT NOT NULL,
  name TEXT NOT NULL,
  type INTEGER NOT NULL DEFAULT 0,
  sealed_value BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (org, project, domain, name)
);
