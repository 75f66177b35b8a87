//! Instance keys `{project}-{type}-{hex}` (`odin-PS-8f4a2b`) for the instance registry:
//! the start of a SHA-256 of the time in nanoseconds, 16 random bytes, the project and
//! the type.

use sha2::{Digest, Sha256};

use super::{GenerateError, fill_random, system_now_ns};
use crate::body::{Body, HexKey, HexSpec, InstanceKey};
use crate::typed::TypedId;

/// Generates instance keys `{project}-{type}-{hex}` for the instance registry.
///
/// The hex part is the start of SHA-256(time in ns ‖ 16 random bytes ‖ project ‖ type),
/// 6 digits by default. That is 24 bits, so keys are short but **not** unique on their
/// own: among `k` keys of one project and type, some pair collides with probability
/// about `1 - exp(-k(k-1) / 2^25)`: 0.3 % at 300 keys, 50 % at about 4 800, 95 % at
/// about 10 000. The registry enforces uniqueness (a duplicate registration is an
/// error, and the caller generates again); choose more digits if you keep many keys:
/// 8 digits put the 50 % point at about 77 000, 12 at about 20 million.
///
/// ```
/// use typed_id::generator::InstanceKeyGenerator;
///
/// let key = InstanceKeyGenerator::new().generate("odin", "PS")?;
/// assert_eq!(key.project(), "odin");
/// assert_eq!(key.kind(), "PS");
/// assert_eq!(key.hex().len(), 6);
///
/// let long = InstanceKeyGenerator::with_hex_len(12)?.generate("billing-eu", "WEB")?;
/// assert_eq!(long.hex().len(), 12);
/// # Ok::<(), typed_id::GenerateError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InstanceKeyGenerator {
    hex_len: u8,
}

impl Default for InstanceKeyGenerator {
    fn default() -> Self {
        Self::new()
    }
}

impl InstanceKeyGenerator {
    /// Keys with 6 hex digits.
    #[must_use]
    pub fn new() -> Self {
        InstanceKeyGenerator {
            hex_len: HexSpec::DEFAULT.len,
        }
    }

    /// Keys with `hex_len` hex digits (4..=32).
    ///
    /// # Errors
    /// [`GenerateError::InvalidConfig`] outside 4..=32.
    pub fn with_hex_len(hex_len: u8) -> Result<Self, GenerateError> {
        if !(4..=32).contains(&hex_len) {
            return Err(GenerateError::InvalidConfig {
                reason: "instance key hex length must be 4..=32",
            });
        }
        Ok(InstanceKeyGenerator { hex_len })
    }

    /// The number of hex digits.
    #[must_use]
    pub fn hex_len(&self) -> u8 {
        self.hex_len
    }

    /// A fresh key for `project` and `kind`.
    ///
    /// # Errors
    /// [`GenerateError::Key`] when the project or type breaks the key grammar (ASCII
    /// letters and digits; the project may have `-`-separated segments);
    /// [`GenerateError::Entropy`] when the OS has no randomness to give.
    pub fn generate(&self, project: &str, kind: &str) -> Result<InstanceKey, GenerateError> {
        // Validate before spending randomness, and so a bad type fails the same way
        // whatever the hex turns out to be.
        let placeholder = "0".repeat(usize::from(self.hex_len));
        InstanceKey::from_parts(project, kind, &placeholder).map_err(GenerateError::Key)?;
        let digest = key_digest(project.as_bytes(), kind.as_bytes())?;
        let hex = HexKey::from_bytes(&digest, self.hex_len).map_err(GenerateError::Id)?;
        InstanceKey::from_parts(project, kind, hex.as_str()).map_err(GenerateError::Key)
    }
}

/// A fresh key of a derived hex-key type (`odin-PS-8f4a2b` for a type with prefix
/// `odin-PS`), at the type's hex length. The type's prefix plays the part of project and
/// type in the hash; see [`InstanceKeyGenerator`] for the collision odds.
///
/// # Errors
/// [`GenerateError::Entropy`] when the OS has no randomness to give.
pub fn generate_hex_key<T: TypedId<Body = HexKey>>() -> Result<T, GenerateError> {
    let spec: HexSpec = T::SPEC;
    let digest = key_digest(T::PREFIX.as_bytes(), b"")?;
    let body = HexKey::from_bytes(&digest, spec.len)
        .and_then(|key| key.adopt(&spec).map_err(crate::error::IdError::Shape))
        .map_err(GenerateError::Id)?;
    Ok(T::from_body_unchecked(body))
}

/// SHA-256(time ns ‖ 16 random bytes ‖ project ‖ 0 ‖ kind).
fn key_digest(project: &[u8], kind: &[u8]) -> Result<[u8; 32], GenerateError> {
    let mut random = [0u8; 16];
    fill_random(&mut random)?;
    let mut h = Sha256::new();
    h.update(system_now_ns().to_be_bytes());
    h.update(random);
    h.update(project);
    h.update([0]);
    h.update(kind);
    Ok(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_keys() {
        let g = InstanceKeyGenerator::new();
        let a = g.generate("odin", "PS").unwrap();
        let b = g.generate("odin", "PS").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), "odin-PS-".len() + 6);
        assert!(
            a.hex()
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert!(matches!(
            g.generate("odin", "P-S"),
            Err(GenerateError::Key(_))
        ));
        assert!(matches!(g.generate("", "PS"), Err(GenerateError::Key(_))));
        assert!(InstanceKeyGenerator::with_hex_len(3).is_err());
        assert!(InstanceKeyGenerator::with_hex_len(33).is_err());
        let key = InstanceKeyGenerator::with_hex_len(32)
            .unwrap()
            .generate("a", "B")
            .unwrap();
        assert_eq!(key.hex().len(), 32);
    }
}
