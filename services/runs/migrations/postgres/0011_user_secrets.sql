-- SecretService's secrets, scoped to (org, project, domain); project and domain may be '' (org- or project-wide).
-- sealed_value: AES-256-GCM of the value (nonce || ciphertext || tag) under runs.secretsKey, with the scope and
-- name as associated data; the plaintext is never stored. type: flyteidl2.secret.SecretType.
CREATE TABLE user_secrets (
  org TEXT COLLATE "C" NOT NULL,
  project TEXT COLLATE "C" NOT NULL,
  domain TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  type INTEGER NOT NULL DEFAULT 0,
  sealed_value BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (org, project, domain, name)
);
