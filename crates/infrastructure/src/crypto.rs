//! Crypto adapters: argon2id password hashing, HS256 access tokens (JWT) and
//! random secrets with their SHA-256 digests. Owns algorithms and parameters;
//! never stores anything and never logs passwords, tokens or secrets.

use argon2::password_hash::{
    self, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::identity::{
    AccessClaims, AccessTokens, CryptoError, Password, PasswordHasher, Role, Secrets,
};
use domain::ids::{TenantId, UserId};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

// ------------------------------------------------------------------ passwords

/// Argon2id password hashing. Hashes are PHC strings carrying their own
/// parameters, so raising the cost later keeps old hashes verifiable.
///
/// Hashing is CPU- and memory-bound on purpose, so it runs on tokio's
/// blocking pool, never on the async workers.
#[derive(Clone)]
pub struct Argon2Hasher {
    params: Params,
}

impl std::fmt::Debug for Argon2Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Hasher")
            .field("memory_kib", &self.params.m_cost())
            .field("iterations", &self.params.t_cost())
            .field("parallelism", &self.params.p_cost())
            .finish()
    }
}

impl Default for Argon2Hasher {
    /// OWASP's recommendation for argon2id: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            params: Params::DEFAULT,
        }
    }
}

impl Argon2Hasher {
    /// An argon2id hasher with explicit cost (tests use tiny values; production
    /// uses [`Argon2Hasher::default`]).
    ///
    /// # Errors
    /// `CryptoError::Failure` when argon2 refuses the parameters (e.g. memory
    /// below 8 KiB per lane, zero iterations or lanes).
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, CryptoError> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| CryptoError::Failure(format!("argon2 parameters: {e}")))?;
        Ok(Self { params })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CryptoError> + Send + 'static,
) -> Result<T, CryptoError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| CryptoError::Failure("password hashing task failed".into()))?
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &Password) -> Result<String, CryptoError> {
        let argon2 = self.argon2();
        let password = password.clone();
        blocking(move || {
            let mut salt = [0_u8; 16];
            rand::rng().fill_bytes(&mut salt);
            let salt = SaltString::encode_b64(&salt)
                .map_err(|e| CryptoError::Failure(format!("salt: {e}")))?;
            argon2
                .hash_password(password.expose().as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| CryptoError::Failure(format!("argon2: {e}")))
        })
        .await
    }

    async fn verify(&self, password: &Password, hash: &str) -> Result<bool, CryptoError> {
        // Reject garbage before paying for a blocking task.
        PasswordHash::new(hash).map_err(|e| CryptoError::Failure(format!("stored hash: {e}")))?;
        let argon2 = self.argon2();
        let password = password.clone();
        let hash = hash.to_owned();
        blocking(move || {
            let parsed = PasswordHash::new(&hash)
                .map_err(|e| CryptoError::Failure(format!("stored hash: {e}")))?;
            // Cost and variant come from the stored hash, not from `self`.
            match argon2.verify_password(password.expose().as_bytes(), &parsed) {
                Ok(()) => Ok(true),
                Err(password_hash::Error::Password) => Ok(false),
                Err(e) => Err(CryptoError::Failure(format!("argon2: {e}"))),
            }
        })
        .await
    }
}

// ------------------------------------------------------------------ access tokens

/// The `iss` of every access token we sign, and the only one we accept.
pub const ISSUER: &str = "adscale";
/// Access-token lifetime unless configured otherwise: 15 minutes.
pub const DEFAULT_ACCESS_TTL_SECS: i64 = 900;
/// Shortest HS256 secret accepted: 256 bits, the size of the HMAC output.
pub const MIN_SECRET_LEN: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: Uuid,
    tid: Uuid,
    role: String,
    iat: i64,
    exp: i64,
    jti: Uuid,
}

/// HS256 access tokens. Claims: `sub` (user), `tid` (tenant), `role`, `iat`,
/// `exp`, `jti`, `iss = "adscale"`.
///
/// Expiry is checked against the `now` given to [`AccessTokens::verify`],
/// with no leeway, so callers (and tests) control time.
#[derive(Clone)]
pub struct JwtTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: i64,
}

impl std::fmt::Debug for JwtTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtTokens")
            .field("secret", &"***")
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

impl JwtTokens {
    /// Tokens signed with `secret`, valid for [`DEFAULT_ACCESS_TTL_SECS`].
    ///
    /// # Errors
    /// `CryptoError::Failure` when `secret` is shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &[u8]) -> Result<Self, CryptoError> {
        Self::with_ttl(secret, DEFAULT_ACCESS_TTL_SECS)
    }

    /// Tokens signed with `secret`, valid for `ttl_secs` seconds.
    ///
    /// # Errors
    /// `CryptoError::Failure` when `secret` is shorter than [`MIN_SECRET_LEN`]
    /// bytes or `ttl_secs` is not positive.
    pub fn with_ttl(secret: &[u8], ttl_secs: i64) -> Result<Self, CryptoError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(CryptoError::Failure(format!(
                "JWT secret must be at least {MIN_SECRET_LEN} bytes"
            )));
        }
        if ttl_secs <= 0 {
            return Err(CryptoError::Failure(
                "access-token lifetime must be positive".into(),
            ));
        }
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        // `exp` is checked by hand against the caller's `now`.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        })
    }

    /// The lifetime of issued tokens, in seconds.
    #[must_use]
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }
}

impl AccessTokens for JwtTokens {
    fn issue(
        &self,
        user: UserId,
        tenant: TenantId,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<(String, i64), CryptoError> {
        let iat = now.unix_timestamp();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: user.into_uuid(),
            tid: tenant.into_uuid(),
            role: role.as_str().to_owned(),
            iat,
            exp: iat.saturating_add(self.ttl_secs),
            jti: Uuid::new_v4(),
        };
        let token = jsonwebtoken::encode(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &self.encoding,
        )
        .map_err(|e| CryptoError::Failure(format!("signing: {e}")))?;
        Ok((token, self.ttl_secs))
    }

    fn verify(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, CryptoError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| CryptoError::InvalidToken)?;
        let c = data.claims;
        if c.iss != ISSUER || now.unix_timestamp() >= c.exp {
            return Err(CryptoError::InvalidToken);
        }
        let role = Role::parse(&c.role).map_err(|_| CryptoError::InvalidToken)?;
        let expires_at =
            OffsetDateTime::from_unix_timestamp(c.exp).map_err(|_| CryptoError::InvalidToken)?;
        Ok(AccessClaims {
            user_id: UserId::from_uuid(c.sub),
            tenant_id: TenantId::from_uuid(c.tid),
            role,
            expires_at,
        })
    }
}

// ------------------------------------------------------------------ secrets

/// Refresh tokens and API keys: random bytes from the OS-seeded CSPRNG,
/// URL-safe base64 without padding; stored only as lowercase hex SHA-256.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomSecrets;

impl Secrets for RandomSecrets {
    fn generate(&self, bytes: usize) -> String {
        let mut buf = vec![0_u8; bytes];
        rand::rng().fill_bytes(&mut buf);
        URL_SAFE_NO_PAD.encode(buf)
    }

    fn digest(&self, secret: &str) -> String {
        hex::encode(Sha256::digest(secret.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";

    fn fast_hasher() -> Argon2Hasher {
        Argon2Hasher::new(64, 1, 1).unwrap()
    }

    fn pw(s: &str) -> Password {
        Password::parse(s).unwrap()
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap()
    }

    #[tokio::test]
    async fn hash_then_verify_round_trips() {
        let h = fast_hasher();
        let hash = h.hash(&pw("correct horse battery")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(h.verify(&pw("correct horse battery"), &hash).await.unwrap());
    }

    #[tokio::test]
    async fn same_password_hashes_differently() {
        let h = fast_hasher();
        let a = h.hash(&pw("correct horse battery")).await.unwrap();
        let b = h.hash(&pw("correct horse battery")).await.unwrap();
        assert_ne!(a, b, "salt must be random");
    }

    #[tokio::test]
    async fn wrong_password_verifies_false() {
        let h = fast_hasher();
        let hash = h.hash(&pw("correct horse battery")).await.unwrap();
        assert_eq!(h.verify(&pw("wrong horse battery"), &hash).await, Ok(false));
    }

    #[tokio::test]
    async fn verify_uses_the_cost_stored_in_the_hash() {
        let hash = fast_hasher()
            .hash(&pw("correct horse battery"))
            .await
            .unwrap();
        let other = Argon2Hasher::new(128, 2, 1).unwrap();
        assert!(
            other
                .verify(&pw("correct horse battery"), &hash)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn malformed_hash_is_a_failure() {
        let h = fast_hasher();
        let r = h
            .verify(&pw("correct horse battery"), "not-a-phc-string")
            .await;
        assert!(matches!(r, Err(CryptoError::Failure(_))), "{r:?}");
    }

    #[test]
    fn default_hasher_uses_owasp_parameters() {
        let d = Argon2Hasher::default();
        assert_eq!(
            (d.params.m_cost(), d.params.t_cost(), d.params.p_cost()),
            (19 * 1024, 2, 1)
        );
        assert!(Argon2Hasher::new(1, 1, 1).is_err(), "memory below minimum");
    }

    #[test]
    fn jwt_round_trips_claims() {
        let t = JwtTokens::new(SECRET).unwrap();
        let (user, tenant) = (UserId::generate(), TenantId::generate());
        let (token, ttl) = t.issue(user, tenant, Role::Analyst, now()).unwrap();
        assert_eq!(ttl, 900);
        let c = t.verify(&token, now() + Duration::seconds(899)).unwrap();
        assert_eq!(
            c,
            AccessClaims {
                user_id: user,
                tenant_id: tenant,
                role: Role::Analyst,
                expires_at: now() + Duration::seconds(900),
            }
        );
    }

    #[test]
    fn tokens_are_unique_per_issue() {
        let t = JwtTokens::new(SECRET).unwrap();
        let (u, tn) = (UserId::generate(), TenantId::generate());
        let (a, _) = t.issue(u, tn, Role::Owner, now()).unwrap();
        let (b, _) = t.issue(u, tn, Role::Owner, now()).unwrap();
        assert_ne!(a, b, "jti differs");
    }

    #[test]
    fn rejects_expired_token() {
        let t = JwtTokens::with_ttl(SECRET, 60).unwrap();
        let (token, ttl) = t
            .issue(
                UserId::generate(),
                TenantId::generate(),
                Role::Viewer,
                now(),
            )
            .unwrap();
        assert_eq!(ttl, 60);
        assert!(t.verify(&token, now() + Duration::seconds(59)).is_ok());
        assert_eq!(
            t.verify(&token, now() + Duration::seconds(60)),
            Err(CryptoError::InvalidToken),
            "no leeway at exp"
        );
        assert_eq!(
            t.verify(&token, now() + Duration::hours(1)),
            Err(CryptoError::InvalidToken)
        );
    }

    #[test]
    fn rejects_tampered_token() {
        let t = JwtTokens::new(SECRET).unwrap();
        let (token, _) = t
            .issue(
                UserId::generate(),
                TenantId::generate(),
                Role::Viewer,
                now(),
            )
            .unwrap();
        // Swap the payload for one claiming owner, keeping the signature.
        let mut parts: Vec<&str> = token.split('.').collect();
        let payload = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        let forged = String::from_utf8(payload)
            .unwrap()
            .replace("\"viewer\"", "\"owner\"");
        assert!(forged.contains("\"owner\""), "{forged}");
        let forged = URL_SAFE_NO_PAD.encode(forged);
        parts[1] = &forged;
        assert_eq!(
            t.verify(&parts.join("."), now()),
            Err(CryptoError::InvalidToken)
        );
        assert_eq!(t.verify("not.a.jwt", now()), Err(CryptoError::InvalidToken));
        assert_eq!(t.verify("", now()), Err(CryptoError::InvalidToken));
    }

    #[test]
    fn rejects_token_signed_with_another_secret() {
        let ours = JwtTokens::new(SECRET).unwrap();
        let theirs = JwtTokens::new(b"another-secret-of-at-least-32-bytes!!").unwrap();
        let (token, _) = theirs
            .issue(UserId::generate(), TenantId::generate(), Role::Owner, now())
            .unwrap();
        assert_eq!(ours.verify(&token, now()), Err(CryptoError::InvalidToken));
    }

    #[test]
    fn rejects_token_from_another_issuer() {
        let claims = Claims {
            iss: "someone-else".into(),
            sub: Uuid::now_v7(),
            tid: Uuid::now_v7(),
            role: "owner".into(),
            iat: now().unix_timestamp(),
            exp: now().unix_timestamp() + 900,
            jti: Uuid::new_v4(),
        };
        let token = jsonwebtoken::encode(
            &Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        let t = JwtTokens::new(SECRET).unwrap();
        assert_eq!(t.verify(&token, now()), Err(CryptoError::InvalidToken));
    }

    #[test]
    fn refuses_short_secret_and_non_positive_ttl() {
        assert!(matches!(
            JwtTokens::new(&[7_u8; 31]),
            Err(CryptoError::Failure(_))
        ));
        assert!(JwtTokens::new(&[7_u8; 32]).is_ok());
        assert!(JwtTokens::with_ttl(SECRET, 0).is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        let t = JwtTokens::new(SECRET).unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
    }

    #[test]
    fn digest_is_lowercase_hex_sha256() {
        let s = RandomSecrets;
        assert_eq!(
            s.digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            s.digest(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn generated_secrets_are_url_safe_random_and_sized() {
        let s = RandomSecrets;
        let a = s.generate(32);
        let b = s.generate(32);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes → 43 base64 chars without padding");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{a}"
        );
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
    }
}
