//! One interface over everything that issues snowflakes, so a derived type's
//! `generate(&source)` works with a plain [`SnowflakeGenerator`] and with a lease-fenced
//! generator alike.

use super::{Clock, GenerateError, SnowflakeGenerator};
use crate::body::Snowflake;

/// Something that issues snowflakes: a [`SnowflakeGenerator`], or a lease-fenced
/// `LeasedGenerator` from `typed_id::instance` (features `sqlite`/`postgres`; the
/// implementation lives beside it).
///
/// Derived snowflake types take any source:
///
/// ```
/// use typed_id::generator::SnowflakeGenerator;
/// use typed_id::{Snowflake, TypedId};
///
/// #[derive(TypedId)]
/// #[typed_id(prefix = "msg")]
/// struct MessageId(Snowflake);
///
/// let generator = SnowflakeGenerator::new(3)?;
/// let id = MessageId::generate(&generator)?;
/// assert_eq!(generator.decompose(id.body()).worker, 3);
/// # Ok::<(), typed_id::GenerateError>(())
/// ```
pub trait SnowflakeSource {
    /// Why the source could not issue an ID.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The next snowflake.
    ///
    /// # Errors
    /// The source's own: clock steps beyond tolerance, a lapsed lease, and so on.
    fn next_snowflake(&self) -> Result<Snowflake, Self::Error>;
}

impl<C: Clock> SnowflakeSource for SnowflakeGenerator<C> {
    type Error = GenerateError;

    #[inline]
    fn next_snowflake(&self) -> Result<Snowflake, GenerateError> {
        SnowflakeGenerator::next_snowflake(self)
    }
}

impl<S: SnowflakeSource + ?Sized> SnowflakeSource for &S {
    type Error = S::Error;

    #[inline]
    fn next_snowflake(&self) -> Result<Snowflake, S::Error> {
        (**self).next_snowflake()
    }
}

impl<S: SnowflakeSource + ?Sized> SnowflakeSource for std::sync::Arc<S> {
    type Error = S::Error;

    #[inline]
    fn next_snowflake(&self) -> Result<Snowflake, S::Error> {
        (**self).next_snowflake()
    }
}
