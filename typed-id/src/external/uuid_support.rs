//! `uuid` feature: a [`TypeIdUuid`] and a `uuid::Uuid` are the same 128 bits, so they
//! convert both ways without a check (any UUID version is a valid TypeID suffix).
//!
//! ```
//! use typed_id::{DynTypeId, TypeIdUuid};
//!
//! let uuid = uuid::Uuid::parse_str("01890a5d-ac96-774b-bcce-b302099a8057")?;
//! let id = DynTypeId::new("prefix", TypeIdUuid::from(uuid))?;
//! assert_eq!(id.to_string(), "prefix_01h455vb4pex5vsknk084sn02q");
//! assert_eq!(uuid::Uuid::from(id.uuid()), uuid);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::body::TypeIdUuid;

impl From<uuid::Uuid> for TypeIdUuid {
    fn from(uuid: uuid::Uuid) -> Self {
        TypeIdUuid::from_u128(uuid.as_u128())
    }
}

impl From<TypeIdUuid> for uuid::Uuid {
    fn from(id: TypeIdUuid) -> Self {
        uuid::Uuid::from_u128(id.to_u128())
    }
}
