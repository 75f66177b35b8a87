//! The shape of the input: a non-generic tuple struct with exactly one field. The field's
//! type names the ID body when it is one of the runtime crate's bodies; otherwise (a type
//! alias, a re-export under another name) the `kind` key must name it, which is
//! `valid.rs`'s business.

use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Fields, Ident, Result, Type};

/// Which ID body the type wraps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    Hash,
    Snowflake,
    Seq,
    HexKey,
    TypeId,
}

impl BodyKind {
    pub(crate) const ALL: [BodyKind; 5] = [
        BodyKind::Hash,
        BodyKind::Snowflake,
        BodyKind::Seq,
        BodyKind::HexKey,
        BodyKind::TypeId,
    ];

    /// The body type's name, as users write it.
    pub(crate) fn type_name(self) -> &'static str {
        match self {
            BodyKind::Hash => "HashId",
            BodyKind::Snowflake => "Snowflake",
            BodyKind::Seq => "Seq",
            BodyKind::HexKey => "HexKey",
            BodyKind::TypeId => "TypeIdUuid",
        }
    }

    /// The value of `kind = "..."` that names this body.
    pub(crate) fn kind_value(self) -> &'static str {
        match self {
            BodyKind::Hash => "hash",
            BodyKind::Snowflake => "snowflake",
            BodyKind::Seq => "seq",
            BodyKind::HexKey => "hex",
            BodyKind::TypeId => "typeid",
        }
    }

    pub(crate) fn from_kind_value(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.kind_value() == value)
    }

    fn from_type_name(ident: &Ident) -> Option<Self> {
        Self::ALL.into_iter().find(|k| ident == k.type_name())
    }
}

/// The parts of the input the expansion needs.
pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    /// The field's type, as written.
    pub(crate) field_ty: &'a Type,
    /// The body the field's type names, if it is one of the runtime crate's bodies.
    pub(crate) named_kind: Option<BodyKind>,
}

impl<'a> Input<'a> {
    pub(crate) fn from_syn(input: &'a DeriveInput) -> Result<Self> {
        let fields = match &input.data {
            Data::Struct(data) => &data.fields,
            Data::Enum(data) => {
                return Err(Error::new(
                    data.enum_token.span,
                    "`TypedId` can only be derived for a tuple struct with one field, like `struct ElementId(HashId);`",
                ));
            }
            Data::Union(data) => {
                return Err(Error::new(
                    data.union_token.span,
                    "`TypedId` can only be derived for a tuple struct with one field, like `struct ElementId(HashId);`",
                ));
            }
        };
        if let Some(param) = input.generics.params.first() {
            return Err(Error::new(
                param.span(),
                "`TypedId` cannot be derived for a generic type: an ID type has one fixed prefix and body",
            ));
        }
        if let Some(clause) = &input.generics.where_clause {
            return Err(Error::new(
                clause.where_token.span,
                "`TypedId` cannot be derived with a `where` clause",
            ));
        }
        let field = match fields {
            Fields::Unnamed(unnamed) if unnamed.unnamed.len() == 1 => &unnamed.unnamed[0],
            Fields::Unnamed(unnamed) if unnamed.unnamed.len() > 1 => {
                return Err(Error::new(
                    unnamed.unnamed[1].span(),
                    "`TypedId` needs exactly one field, the ID body; remove the extra fields",
                ));
            }
            Fields::Named(named) => {
                return Err(Error::new(
                    named.brace_token.span.join(),
                    "`TypedId` needs a tuple struct, like `struct ElementId(HashId);`, not named fields",
                ));
            }
            _ => {
                return Err(Error::new(
                    input.ident.span(),
                    "`TypedId` needs one field holding the ID body, like `struct ElementId(HashId);`",
                ));
            }
        };
        Ok(Input {
            ident: &input.ident,
            field_ty: &field.ty,
            named_kind: named_kind(&field.ty),
        })
    }
}

/// The body named by the last segment of a plain path type: `HashId`, `typed_id::Seq`.
fn named_kind(ty: &Type) -> Option<BodyKind> {
    if let Type::Path(path) = ty
        && path.qself.is_none()
        && let Some(last) = path.path.segments.last()
        && last.arguments.is_empty()
    {
        return BodyKind::from_type_name(&last.ident);
    }
    None
}
