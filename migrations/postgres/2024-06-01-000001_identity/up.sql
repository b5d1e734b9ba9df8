-- Identity: organizations (tenants), users, memberships, refresh tokens, API keys.
-- Constraint names are part of the contract: the adapter turns them into the
-- field names it reports (`users_email_key` -> "email").
--
-- users, refresh_tokens and api_keys are also looked up *before* a tenant is
-- known (login by e-mail, token refresh, API-key authentication), so those
-- lookups use global unique keys; everything else leads with tenant_id.

CREATE TABLE organizations (
    id          uuid        NOT NULL,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT organizations_pkey PRIMARY KEY (id)
);

CREATE TABLE users (
    id             uuid        NOT NULL,
    email          text        NOT NULL,
    name           text        NOT NULL,
    password_hash  text        NOT NULL,
    created_at     timestamptz NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE memberships (
    tenant_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    role        text        NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT memberships_role_check CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
    CONSTRAINT memberships_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE,
    CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);
-- A user's organizations at login (and the cascade from users).
CREATE INDEX memberships_user_id_idx ON memberships (user_id, tenant_id);

CREATE TABLE refresh_tokens (
    id          uuid        NOT NULL,
    family_id   uuid        NOT NULL,
    tenant_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    token_hash  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
    -- Removing a member ends their sessions in that organization.
    CONSTRAINT refresh_tokens_user_id_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES memberships (tenant_id, user_id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_tenant_user_idx ON refresh_tokens (tenant_id, user_id);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

CREATE TABLE api_keys (
    id            uuid        NOT NULL,
    tenant_id     uuid        NOT NULL,
    name          text        NOT NULL,
    role          text        NOT NULL,
    prefix        text        NOT NULL,
    key_hash      text        NOT NULL,
    created_by    uuid,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
    CONSTRAINT api_keys_role_check CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
    CONSTRAINT api_keys_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES organizations (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_created_by_fkey FOREIGN KEY (created_by)
        REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, id);
CREATE INDEX api_keys_created_by_idx ON api_keys (created_by);
